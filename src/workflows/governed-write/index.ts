import {
  ActivityFailure, ApplicationFailure, CancellationScope, allHandlersFinished, condition, log, patched, proxyActivities, proxyLocalActivities,
  setCurrentDetails, setHandler, upsertSearchAttributes, uuid4, workflowInfo,
} from '@temporalio/workflow';
import type { WritActivities } from '../activities/governed/index.js';
import type { EventDraft } from '../activities/ledger.js';
import { WRIT_SEARCH_ATTRIBUTES } from '../model/search-attributes.js';
import type { ApprovalAttempt, ApproverFacts, GrantedApproval } from '../model/approval.js';
import { approvalsStillNeeded, judgeApproval, judgeRejection, judgeResolution, quorumReached } from '../model/approval.js';
import { canonicalId, sameIdentity } from '../model/identity.js';
import type { ValidatedEnvelope } from '../model/envelope.js';
import type { Outcome, State } from '../model/lifecycle.js';
import { assertClosingOutcome, assertTransition } from '../model/lifecycle.js';
import type { Json } from '../model/json.js';
import type { OperationResult, OperationState, ResolveInput, StepSnapshot, StepView, TransitionView } from '../model/operation.js';
import type { SubmittedRequest } from '../model/request.js';
import { traceIdOf } from '../model/request.js';
import { isTraceparent, newTraceparentFromHex } from '../model/trace-context.js';
import { workflowEventKey } from '../model/event-keys.js';
import type { DecisionResponse, RejectionAttempt } from './messages.js';
import {
  approvalAttemptSchema, approveSignal, approveUpdate, assertValid, rejectSignal, rejectUpdate, rejectionAttemptSchema,
  resolveInputSchema, resolveSignal, resolveUpdate, stateQuery,
} from './messages.js';

/**
 * Resolutions are judged like approvals: the resolver is looked up in the directory (one more
 * activity call), so histories recorded before this need the old path to replay.
 */
const RESOLVE_JUDGED_PATCH = 'writ-resolve-judged-v1';

export interface GovernedWriteSettings {
  /** Start-to-close timeout of each activity; a crashed worker's activity is retried after it. */
  activityTimeoutMs?: number;
}

/**
 * A start that carried no trace at all still gets one, so its records correlate like any other
 * operation's. Writ's workflow interceptor already does this; this covers bundles built without it.
 */
function withTraceparent(request: SubmittedRequest): SubmittedRequest {
  if (!request || typeof request !== 'object' || request.traceparent !== undefined) return request;
  return { ...request, traceparent: newTraceparentFromHex(uuid4().replaceAll('-', '') + uuid4().replaceAll('-', '')) };
}

/** A decision's signature, as given, and the key the directory holds for the decider: evidence an auditor re-checks. */
function decisionEvidence(signature: string | null, facts: ApproverFacts) {
  // The directory version that judged the decision: approvals may come under a newer directory than the policy decision's.
  return { signed: signature !== null, signature, signatureValid: facts.signatureValid, keyId: facts.keyId ?? null, ...(facts.directoryVersion ? { directoryVersion: facts.directoryVersion } : {}) };
}

interface ExecutedStep {
  index: number;
  before: StepSnapshot;
  after: Json;
  executedAt: string;
}

/**
 * One governed write: plan, validate and decide policy, wait for approval when policy says so,
 * execute and verify each step, roll back in reverse when one fails, close. Every step is an
 * activity that appends its own records to the ledger.
 */
export async function governedWrite(submitted: SubmittedRequest, settings: GovernedWriteSettings = {}): Promise<OperationResult> {
  const request = withTraceparent(submitted);
  const timeout = settings.activityTimeoutMs ?? 60_000;
  // Ledger appends and short reads run as local activities: durable (recorded as markers, re-run
  // idempotently after a crash) without a round trip through the task queue each. Writes to the
  // outside world and their undoing stay regular activities, visible and retried by the server.
  const ledger = proxyLocalActivities<WritActivities>({
    startToCloseTimeout: timeout,
    // The ledger must eventually be written: keep retrying anything but refused records.
    retry: { initialInterval: '200ms', maximumInterval: '10s', nonRetryableErrorTypes: ['INVALID_RECORD'] },
  });
  const retryOutside = { initialInterval: '500ms', maximumInterval: '10s', maximumAttempts: 5, nonRetryableErrorTypes: ['CONNECTOR_INPUT', 'INVALID_RECORD'] };
  // Outside systems get a few attempts; then the operation fails (and compensates) instead of hanging.
  const outsideOptions = { startToCloseTimeout: timeout, retry: retryOutside };
  const outside = proxyActivities<WritActivities>(outsideOptions);
  const readOptions = { startToCloseTimeout: timeout, retry: retryOutside };
  const reads = proxyLocalActivities<WritActivities>(readOptions);

  // An operation's id and its workflow id are one; the plan activity refuses a request claiming
  // another, and every record is filed under this id, never under the one a request claims.
  const operationId = workflowInfo().workflowId;
  let state: State = 'planned';
  let outcome: Outcome | null = null;
  let envelope: ValidatedEnvelope | null = null;
  let digest: string | null = null;
  let deadline: string | null = null;
  let granted: GrantedApproval[] = [];
  let rejected: { approver: string; reason: string } | null = null;
  let resolution: ResolveInput | null = null;
  let messageSeq = 0;
  let approvalRound = 0;
  const refused: OperationState['approvals']['refused'] = [];
  const transitions: TransitionView[] = [{ from: null, to: 'planned', at: new Date().toISOString() }];
  // Nothing is trusted before the plan activity has validated the request: a malformed one
  // (from a client other than WritClient) must reach it and be refused on the record, not crash here.
  const steps: StepView[] = Array.isArray(request?.steps) && request.steps.length <= 50
    ? request.steps.map((step, index) => ({ index, connector: step?.connector, action: step?.action, target: step?.target, status: 'pending' as const }))
    : [];
  const ref = {
    operationId,
    correlationId: isTraceparent(request?.traceparent) ? traceIdOf(request.traceparent) : '',
    traceparent: request?.traceparent,
    // The request's groups are a claim: records carry the directory's, which the plan looks up.
    actor: request?.actor && typeof request.actor === 'object' ? { ...request.actor, groups: [] as string[] } : request?.actor,
  };

  const event = (type: string, to: State | null, options: { stepIndex?: number; round?: number; payload?: Record<string, unknown> } = {}): EventDraft => {
    const step = options.stepIndex ?? null;
    return {
      // Once planned, records name the requester as the envelope does (canonical id, the directory's groups), not as sent.
      type, ...ref, stepIndex: step, state: to,
      idempotencyKey: workflowEventKey(ref.operationId, type, step, options.round ?? 0),
      payload: (options.payload ?? {}) as EventDraft['payload'],
    };
  };

  const describe = () => {
    const lines = [`**State:** ${state}${outcome ? ` (${outcome})` : ''}`];
    if (envelope) lines.push(`**Risk:** ${envelope.policy.risk}; policy ${envelope.policy.policyId}: ${envelope.policy.reasons.join('; ')}`);
    if (envelope?.policy.approvalsRequired) {
      lines.push(`**Approvals:** ${stillNeeded()} still needed of ${envelope.policy.approvalsRequired}${envelope.policy.approverGroups.length ? ` from ${envelope.policy.approverGroups.join(', ')}` : ''}${deadline && state === 'awaiting_approval' ? `, until ${deadline}` : ''}`);
    }
    lines.push(`**Steps:** ${steps.map((s) => `${s.index + 1}. ${s.action} ${s.target}: ${s.status}`).join('; ')}`);
    lines.push(`**Path:** ${transitions.map((t) => t.to).join(' → ')}`);
    setCurrentDetails(lines.join('\n\n'));
  };

  const moveTo = (to: State, note?: string) => {
    assertTransition(state, to);
    transitions.push({ from: state, to, at: new Date().toISOString(), ...(note ? { note } : {}) });
    state = to;
    upsertSearchAttributes([{ key: WRIT_SEARCH_ATTRIBUTES.state, value: to }]);
    describe();
  };

  // The requester as the plan activity canonicalised it: never the raw id a caller sent.
  const requester = () => envelope?.actor.id ?? request.actor.id;

  const context = () => ({
    decision: envelope!.policy,
    requester: requester(),
    awaiting: state === 'awaiting_approval',
    currentDigest: digest ?? '',
    granted,
  });

  const stillNeeded = () => (envelope ? approvalsStillNeeded(envelope.policy, granted) : 0);

  // Decisions are judged one at a time, so two attempts never both pass a check the other changes.
  let decisionQueue: Promise<unknown> = Promise.resolve();
  const decide = (kind: 'approve' | 'reject', attempt: ApprovalAttempt | RejectionAttempt): Promise<DecisionResponse> => {
    const next = decisionQueue.then(() => judgeAndRecord(kind, attempt));
    decisionQueue = next.catch(() => undefined);
    return next;
  };

  /** Judges an approval or rejection in the workflow, records it either way, answers the caller. */
  const judgeAndRecord = async (kind: 'approve' | 'reject', attempt: ApprovalAttempt | RejectionAttempt): Promise<DecisionResponse> => {
    const seq = ++messageSeq;
    const malformed = kind === 'approve' ? approvalAttemptSchema.safeParse(attempt) : rejectionAttemptSchema.safeParse(attempt);
    let facts: ApproverFacts = { known: false, groups: [], signatureValid: null };
    let verdict: { accepted: true } | { accepted: false; refusal: string };
    // Identities are compared canonically from here on; the id as given is kept for the record.
    const given = String(attempt?.approver ?? '');
    const canonical = canonicalId(given);
    const who = canonical.ok ? canonical.id : given;
    const signature = typeof attempt?.signature === 'string' ? attempt.signature : null;
    if (!malformed.success) {
      verdict = { accepted: false, refusal: `malformed ${kind}: ${malformed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
    } else if (!envelope) {
      verdict = { accepted: false, refusal: 'the operation is not awaiting approval' };
    } else {
      facts = await ledger.approverFacts(who, attempt.digest ?? '', signature ?? undefined, { kind, operationId });
      verdict = kind === 'approve' ? judgeApproval(attempt as ApprovalAttempt, facts, context()) : judgeRejection(attempt, facts, context());
    }
    const at = new Date().toISOString();
    const reason = String(attempt?.reason ?? '');
    const type = verdict.accepted ? (kind === 'approve' ? 'approval.granted' : 'approval.rejected') : 'approval.refused';
    // Recorded before it takes effect, so the ledger never shows the operation moving on first.
    await ledger.recordEvents([event(type, null, {
      round: seq,
      payload: {
        kind, approver: who, ...(given !== who ? { approverAsGiven: given } : {}), reason, digest: attempt?.digest ?? null,
        ...decisionEvidence(signature, facts),
        approverGroups: facts.groups, ...(verdict.accepted ? {} : { refusal: verdict.refusal }),
        approverDiffersFromRequester: !sameIdentity(who, requester()),
      },
    })]);
    if (verdict.accepted && kind === 'approve') {
      granted = [...granted, { approver: who, groups: facts.groups, reason, digest: (attempt as ApprovalAttempt).digest, signed: signature !== null, signature, keyId: facts.keyId ?? null, at }];
    } else if (verdict.accepted) {
      rejected ??= { approver: who, reason };
    } else {
      refused.push({ approver: who, reason, refusal: verdict.refusal, at });
    }
    describe();
    return { accepted: verdict.accepted, ...(verdict.accepted ? {} : { refusal: verdict.refusal }), state, stillNeeded: stillNeeded() };
  };

  let resolutionEvidence: Record<string, unknown> = {};
  const acceptResolution = async (input: ResolveInput): Promise<DecisionResponse> => {
    if (patched(RESOLVE_JUDGED_PATCH)) {
      const next = decisionQueue.then(() => judgeAndRecordResolution(input));
      decisionQueue = next.catch(() => undefined);
      return next;
    }
    if (state !== 'needs_intervention' || resolution) {
      const refusal = resolution ? 'the operation was already resolved' : `the operation is ${state}, not needs_intervention`;
      await ledger.recordEvents([event('operation.resolve_refused', null, { round: ++messageSeq, payload: { ...input, refusal } })]);
      return { accepted: false, refusal, state, stillNeeded: 0 };
    }
    resolution = input;
    return { accepted: true, state, stillNeeded: 0 };
  };

  /** A resolution is a decision: judged against the directory, signed where policy says, recorded when refused. */
  const judgeAndRecordResolution = async (input: ResolveInput): Promise<DecisionResponse> => {
    const seq = ++messageSeq;
    const given = String(input?.by ?? '');
    const canonical = canonicalId(given);
    const who = canonical.ok ? canonical.id : given;
    const signature = typeof input?.signature === 'string' ? input.signature : null;
    let facts: ApproverFacts = { known: false, groups: [], signatureValid: null };
    const open = state === 'needs_intervention' && !resolution && envelope;
    if (open) {
      facts = await ledger.approverFacts(who, input.digest ?? '', signature ?? undefined, { kind: 'resolve', operationId, resolution: { action: input.action, reason: input.reason } });
    }
    const verdict = judgeResolution(input, facts, {
      decision: envelope?.policy ?? null,
      needsIntervention: state === 'needs_intervention', alreadyResolved: resolution !== null, state, currentDigest: digest ?? '',
    });
    const evidence = {
      kind: 'resolve', by: who, ...(given !== who ? { byAsGiven: given } : {}), action: input.action, reason: input.reason,
      digest: input.digest ?? null, ...decisionEvidence(signature, facts), resolverGroups: facts.groups,
    };
    if (!verdict.accepted) {
      await ledger.recordEvents([event('operation.resolve_refused', null, { round: seq, payload: { ...evidence, refusal: verdict.refusal } })]);
      return { accepted: false, refusal: verdict.refusal, state, stillNeeded: 0 };
    }
    resolution = { ...input, by: who };
    resolutionEvidence = evidence;
    return { accepted: true, state, stillNeeded: 0 };
  };

  setHandler(stateQuery, (): OperationState => ({
    operationId, state, outcome, request, envelope, transitions, steps, resolution,
    approvals: {
      required: envelope?.policy.approvalsRequired ?? 0, granted, stillNeeded: stillNeeded(),
      approverGroups: envelope?.policy.approverGroups ?? [], digest, deadline, refused,
    },
  }));
  setHandler(approveUpdate, (attempt) => decide('approve', attempt), { validator: (attempt) => assertValid(approvalAttemptSchema, attempt) });
  setHandler(rejectUpdate, (attempt) => decide('reject', attempt), { validator: (attempt) => assertValid(rejectionAttemptSchema, attempt) });
  setHandler(resolveUpdate, (input) => acceptResolution(input), { validator: (input) => assertValid(resolveInputSchema, input) });
  setHandler(approveSignal, async (attempt) => void (await decide('approve', attempt)));
  setHandler(rejectSignal, async (attempt) => void (await decide('reject', attempt)));
  setHandler(resolveSignal, async (input) => {
    const parsed = resolveInputSchema.safeParse(input);
    if (parsed.success) await acceptResolution(input);
    // A signal has no validator to answer: a malformed resolution is refused on the record instead.
    else if (patched(RESOLVE_JUDGED_PATCH)) {
      const refusal = `malformed resolution: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ')}`;
      const by = String((input as { by?: unknown } | null)?.by ?? '');
      // In turn with the decisions before it, so the ledger lists attempts in the order they came.
      const next = decisionQueue.then(() => ledger.recordEvents([event('operation.resolve_refused', null, { round: ++messageSeq, payload: { kind: 'resolve', by, refusal } })]));
      decisionQueue = next.catch(() => undefined);
      await next;
    }
  });

  const close = async (closing: Outcome, payload: Record<string, unknown> = {}): Promise<OperationResult> => {
    assertClosingOutcome(state, closing);
    moveTo('closed');
    outcome = closing;
    upsertSearchAttributes([{ key: WRIT_SEARCH_ATTRIBUTES.state, value: `closed:${closing}` }]);
    describe();
    // Attempts still being judged finish and are recorded before the operation closes.
    await condition(allHandlersFinished);
    await ledger.recordEvents([event('operation.closed', 'closed', { payload: { outcome: closing, path: transitions.map((t) => t.to), ...payload } })]);
    return { operationId, outcome: closing, state, correlationId: ref.correlationId };
  };

  const isKeyConflict = (error: unknown) => error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === 'LEDGER_KEY_CONFLICT';
  const writtenDespiteConflict = (error: unknown): Omit<ExecutedStep, 'index'> | null => {
    if (!isKeyConflict(error)) return null;
    const details = ((error as ActivityFailure).cause as ApplicationFailure).details;
    const made = (details?.[1] as { executed?: { before: StepSnapshot; after: Json; executedAt: string } } | undefined)?.executed;
    return made ? { before: made.before, after: made.after ?? null, executedAt: made.executedAt } : null;
  };

  const failureMessage = (error: unknown) => (error instanceof ActivityFailure && error.cause ? error.cause.message : (error as Error).message);

  describe();

  // Plan and validate.
  let planned;
  try {
    planned = await ledger.plan(request, new Date(workflowInfo().startTime).toISOString());
  } catch (error) {
    // The plan's record was refused (its key held another record; the ledger recorded the
    // conflict): nothing has been written, and nothing will be under a plan the ledger lacks.
    if (!isKeyConflict(error) || !patched('writ-close-when-plan-record-conflicted')) throw error;
    planned = { ok: false, problem: failureMessage(error), envelope: null };
  }
  // A refused request's records go on under the identity its refusal was recorded under.
  if (planned.recordedAs) Object.assign(ref, planned.recordedAs);
  if (planned.envelope) ref.actor = planned.envelope.actor;
  if (!planned.ok || !planned.envelope) {
    moveTo('validation_failed', planned.problem);
    await ledger.recordEvents([event('operation.validation_failed', 'validation_failed', { payload: { problems: [planned.problem ?? 'invalid request'] } })]);
    return close('invalid');
  }
  let validation;
  try {
    validation = await reads.validate.executeWithOptions({ ...readOptions, summary: `validate ${request.steps.length} step(s) and decide policy` }, [planned.envelope, request]);
  } catch (error) {
    moveTo('validation_failed', failureMessage(error));
    await ledger.recordEvents([event('operation.validation_failed', 'validation_failed', { payload: { problems: [failureMessage(error)] } })]);
    return close('invalid');
  }
  envelope = validation.envelope;
  digest = validation.approvalDigest;
  const showPlanned = (planned: ReadonlyArray<StepView['planned']> | undefined) => planned?.forEach((change, index) => {
    if (steps[index]) steps[index].planned = change ?? null;
  });
  showPlanned(validation.planned);
  upsertSearchAttributes([{ key: WRIT_SEARCH_ATTRIBUTES.risk, value: envelope.policy.risk }]);
  if (!validation.ok) {
    moveTo('validation_failed', validation.problems.join('; '));
    return close('invalid');
  }
  moveTo('validated');
  // What each step's target must still be when the step runs: as validated, or as re-read right
  // after the approval that named these versions in its digest.
  let expectedVersions: string[] = validation.snapshots.map((snapshot) => snapshot.version);

  // Approval, bound to a digest; a target changed since the approval sends it back.
  const decision = envelope.policy;
  if (decision.approvalsRequired > 0 && envelope.mode === 'execute') {
    for (;;) {
      approvalRound++;
      moveTo('awaiting_approval', approvalRound > 1 ? 'the approval went stale' : undefined);
      deadline = new Date(Date.now() + decision.approvalWindowMs).toISOString();
      await ledger.recordEvents([event('approval.requested', 'awaiting_approval', {
        round: approvalRound,
        payload: { digest, required: decision.approvalsRequired, approverGroups: decision.approverGroups, signed: decision.signedApprovals, deadline },
      })]);
      const decided = await condition(() => rejected !== null || quorumReached(decision, granted), decision.approvalWindowMs);
      const rejection = rejected as { approver: string; reason: string } | null;
      if (rejection) {
        moveTo('rejected');
        await ledger.recordEvents([event('operation.rejected', 'rejected', { payload: { ...rejection } })]);
        return close('rejected');
      }
      if (!decided) {
        moveTo('expired');
        await ledger.recordEvents([event('operation.expired', 'expired', { payload: { deadline, granted: granted.length, required: decision.approvalsRequired } })]);
        return close('expired');
      }
      moveTo('approved');
      await ledger.recordEvents([event('operation.approved', 'approved', { round: approvalRound, payload: { digest, approvers: granted.map((g) => g.approver) } })]);
      const current: Awaited<ReturnType<WritActivities['revalidate']>> = await reads.revalidate(envelope, request, digest ?? undefined);
      if (current.approvalDigest === digest) {
        expectedVersions = current.versions;
        break;
      }
      await ledger.recordEvents([event('approval.stale', null, {
        round: approvalRound,
        payload: { approvedDigest: digest, currentDigest: current.approvalDigest, approvedVersions: validation.snapshots.map((s) => s.version), currentVersions: current.versions, policyRevision: current.policyRevision },
      })]);
      digest = current.approvalDigest;
      showPlanned(current.planned);
      granted = [];
    }
  } else if (decision.approvalsRequired > 0) {
    await ledger.recordEvents([event('approval.not_requested', null, { payload: { reason: 'dry run: the real run would wait for approval', required: decision.approvalsRequired, approverGroups: decision.approverGroups } })]);
  }

  // Execute and verify each step in order; remember what to undo.
  const executed: ExecutedStep[] = [];
  const identity = (step: { connector: string; target: string }) => `${step.connector}:${step.target}`;
  const expectedVersionOf = (index: number): { expectedVersion?: string } => {
    const target = identity(request.steps[index]!);
    const writtenEarlier = request.steps.slice(0, index).some((earlier) => identity(earlier) === target);
    const version = expectedVersions[index];
    return writtenEarlier || version === undefined ? {} : { expectedVersion: version };
  };
  for (const [index, step] of request.steps.entries()) {
    const view = steps[index]!;
    moveTo('executing', `step ${index + 1}`);
    view.status = 'executing';
    let result;
    try {
      result = await outside.executeStep.executeWithOptions({ ...outsideOptions, summary: `${envelope.mode === 'dry-run' ? 'preview' : 'execute'} step ${index + 1}: ${step.action} ${step.target}` }, [{ envelope, step, stepIndex: index, ...expectedVersionOf(index) }]);
    } catch (error) {
      result = { status: 'failed' as const, error: failureMessage(error), before: { version: 'unknown', state: null } };
      await ledger.recordEvents([event('step.execution_failed', 'execution_failed', { stepIndex: index, payload: { error: result.error } })]);
      // The write was made but the ledger refused its record (a key conflict): undo it.
      const made = writtenDespiteConflict(error);
      if (made && envelope.mode === 'execute' && patched('writ-undo-write-whose-record-conflicted')) executed.push({ index, ...made });
    }
    if (result.status !== 'executed') {
      view.status = 'failed';
      view.error = result.error;
      moveTo('execution_failed', result.error);
      return compensateAndClose(executed, `step ${index + 1} failed to execute: ${result.error}`);
    }
    view.before = result.before.state;
    view.after = result.preview ? result.preview.after : (result.after ?? null);
    view.status = envelope.mode === 'dry-run' ? 'previewed' : 'executed';
    moveTo('executed');
    const done: ExecutedStep = { index, before: result.before, after: result.after ?? null, executedAt: result.executedAt ?? new Date().toISOString() };
    if (envelope.mode === 'execute') executed.push(done);
    moveTo('verifying');
    let verdict;
    try {
      verdict = await reads.verifyStep.executeWithOptions({ ...readOptions, summary: `verify step ${index + 1}: read back ${step.target}` },
        [{ envelope, step, stepIndex: index, before: done.before, after: done.after, executedAt: done.executedAt }]);
    } catch (error) {
      verdict = { ok: false, observed: null, expected: done.after, reason: `verification could not run: ${failureMessage(error)}` };
      await ledger.recordEvents([event('step.verification_failed', 'verification_failed', { stepIndex: index, payload: { ...verdict } })]);
    }
    view.verification = verdict;
    if (!verdict.ok) {
      view.status = 'failed';
      moveTo('verification_failed', verdict.reason);
      return compensateAndClose(executed, `step ${index + 1} failed verification: ${verdict.reason}`);
    }
    if (view.status === 'executed') view.status = 'verified';
    moveTo('verified');
  }
  return close(envelope.mode === 'dry-run' ? 'dry_run' : 'succeeded');

  /** Runs compensations newest first, records each, and never swallows a failed one. */
  async function compensateAndClose(toUndo: ExecutedStep[], cause: string): Promise<OperationResult> {
    if (!toUndo.length) return close('failed', { cause });
    moveTo('compensating', cause);
    const failures: string[] = [];
    // Even if the workflow is cancelled now, what was done must still be undone.
    await CancellationScope.nonCancellable(async () => {
      for (const done of [...toUndo].reverse()) {
        const step = request.steps[done.index]!;
        let result;
        try {
          result = await outside.compensateStep.executeWithOptions(
            { ...outsideOptions, summary: `roll back step ${done.index + 1}: ${step.action} ${step.target}` },
            [{ envelope: envelope!, step, stepIndex: done.index, before: done.before, after: done.after, executedAt: done.executedAt }]);
        } catch (error) {
          result = { ok: false, error: failureMessage(error) };
          await ledger.recordEvents([event('step.compensation_failed', 'compensating', { stepIndex: done.index, payload: { error: result.error } })]);
        }
        steps[done.index]!.status = result.ok ? 'compensated' : 'compensation_failed';
        if (!result.ok) failures.push(`step ${done.index + 1}: ${result.error}`);
        describe();
      }
    });
    if (!failures.length) {
      moveTo('compensated');
      await ledger.recordEvents([event('operation.compensated', 'compensated', { payload: { cause, steps: toUndo.map((d) => d.index) } })]);
      return close('rolled_back', { cause });
    }
    moveTo('compensation_failed', failures.join('; '));
    moveTo('needs_intervention');
    await ledger.recordEvents([
      event('operation.compensation_failed', 'compensation_failed', { payload: { cause, failures } }),
      event('operation.needs_intervention', 'needs_intervention', { payload: { cause, failures, howToResolve: `writ resolve ${operationId} --as <who> --action <what was done> --reason <why>` } }),
    ]);
    log.warn('operation needs intervention', { operationId, failures });
    await condition(() => resolution !== null);
    await ledger.recordEvents([event('operation.resolved', 'needs_intervention', { payload: { ...resolution!, ...resolutionEvidence } })]);
    return close('resolved_manually', { cause, resolution });
  }
}
