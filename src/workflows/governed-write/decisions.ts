import { describeIssues } from '../../model/issues.js';
import type { ApprovalAttempt, ApprovalContext, ApprovalVerdict, ApproverFacts } from '../../model/approval.js';
import { judgeApproval, judgeRejection, judgeResolution } from '../../model/approval.js';
import { EventType } from '../../model/events.js';
import type { IdentityProof } from '../../model/identity-proof.js';
import { identityEvidence, identityProofSchema } from '../../model/identity-proof.js';
import { canonicalId, sameIdentity } from '../../model/identity.js';
import type { ResolveInput } from '../../model/operation.js';
import type { PolicyDecision } from '../../model/policy.js';
import type { DecisionResponse, RejectionAttempt } from './messages.js';
import { approvalAttemptSchema, rejectionAttemptSchema } from './messages.js';
import type { GovernedActivities } from './activities.js';
import type { OperationRun } from './operation.js';

/**
 * Resolutions are judged like approvals: the resolver is looked up in the directory (one more
 * activity call), so histories recorded before this need the old path to replay.
 */
export const RESOLVE_JUDGED_PATCH = 'writ-resolve-judged-v1';

const unknownDecider = (): ApproverFacts => ({ known: false, groups: [], signatureValid: null });

/** The proof a decision carries: its own, or a bare signature, which is a key proof. */
function proofOf(attempt: { proof?: unknown; signature?: unknown } | null | undefined): IdentityProof | undefined {
  const proof = identityProofSchema.safeParse(attempt?.proof);
  if (proof.success) return proof.data;
  return typeof attempt?.signature === 'string' ? { kind: 'key', signature: attempt.signature } : undefined;
}

/** How the decider's identity was established, as the record says it (docs/FORMAT.md, "Identity proofs"). */
function identityOnRecord(facts: ApproverFacts) {
  if (!facts.identity) return {};
  const { verified, channel } = facts.identity;
  return {
    identity: identityEvidence(facts.identity),
    identityVerified: verified && channel !== 'asserted',
  };
}

/** A decision's signature, as given, and the key the directory holds for the decider: evidence an auditor re-checks. */
function decisionEvidence(signature: string | null, facts: ApproverFacts) {
  return {
    ...identityOnRecord(facts),
    signed: signature !== null,
    signature,
    signatureValid: facts.signatureValid,
    keyId: facts.keyId ?? null,
    // The directory version that judged the decision: approvals may come under a newer directory
    // than the policy decision's.
    ...(facts.directoryVersion ? { directoryVersion: facts.directoryVersion } : {}),
  };
}

/** The decider as given, kept for the record, and canonically, as identities are compared. */
function decider(given: string) {
  const canonical = canonicalId(given);
  return { given, who: canonical.ok ? canonical.id : given };
}

/** An approval or rejection as judged, before it is recorded. */
interface Decided {
  kind: 'approve' | 'reject';
  who: string;
  facts: ApproverFacts;
  signature: string | null;
  at: string;
  verdict: ApprovalVerdict;
}

/** What an approval or rejection is judged against: the operation as it stands. */
function approvalContext(run: OperationRun, decision: PolicyDecision): ApprovalContext {
  return {
    decision,
    requester: run.requester(),
    awaiting: run.state === 'awaiting_approval',
    currentDigest: run.digest ?? '',
    granted: run.granted,
  };
}

/** The ledger record of an approval or rejection, accepted or refused. */
function decisionPayload(
  { kind, who, facts, signature, verdict }: Decided,
  given: string,
  reason: string,
  attempt: ApprovalAttempt | RejectionAttempt,
  run: OperationRun,
) {
  return {
    kind,
    approver: who,
    ...(given !== who ? { approverAsGiven: given } : {}),
    reason,
    digest: attempt?.digest ?? null,
    ...decisionEvidence(signature, facts),
    approverGroups: facts.groups,
    ...(verdict.accepted ? {} : { refusal: verdict.refusal }),
    approverDiffersFromRequester: !sameIdentity(who, run.requester()),
  };
}

/** An accepted approval joins the granted ones, a rejection stops the operation, a refusal is kept. */
function takeEffect(
  run: OperationRun,
  { kind, who, facts, signature, at, verdict }: Decided,
  reason: string,
  attempt: ApprovalAttempt | RejectionAttempt,
): void {
  if (verdict.accepted && kind === 'approve') {
    const digest = (attempt as ApprovalAttempt).digest;
    run.granted = [
      ...run.granted,
      {
        approver: who,
        groups: facts.groups,
        reason,
        digest,
        signed: signature !== null,
        signature,
        keyId: facts.keyId ?? null,
        ...(facts.identity ? { channel: facts.identity.verified ? facts.identity.channel : 'asserted' } : {}),
        at,
      },
    ];
  } else if (verdict.accepted) {
    run.rejected ??= { approver: who, reason };
  } else {
    run.refused.push({ approver: who, reason, refusal: verdict.refusal, at });
  }
}

/** Judges approvals, rejections and resolutions in the workflow, one at a time, and records each either way. */
export class DecisionDesk {
  private queue: Promise<unknown> = Promise.resolve();
  private messageSeq = 0;

  constructor(
    private readonly run: OperationRun,
    private readonly directory: GovernedActivities['directory'],
  ) {}

  /** In turn with the decisions before it, so two attempts never both pass a check the other changes. */
  inTurn<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  decide(kind: 'approve' | 'reject', attempt: ApprovalAttempt | RejectionAttempt): Promise<DecisionResponse> {
    return this.inTurn(() => this.judgeAndRecord(kind, attempt));
  }

  private async judgeAndRecord(
    kind: 'approve' | 'reject',
    attempt: ApprovalAttempt | RejectionAttempt,
  ): Promise<DecisionResponse> {
    const { run } = this;
    const seq = ++this.messageSeq;
    const malformed = (kind === 'approve' ? approvalAttemptSchema : rejectionAttemptSchema).safeParse(attempt);
    let facts = unknownDecider();
    let verdict: ApprovalVerdict;
    const { given, who } = decider(String(attempt?.approver ?? ''));
    const signature = typeof attempt?.signature === 'string' ? attempt.signature : null;
    if (!malformed.success) {
      const issues = describeIssues(malformed.error, { whole: '' });
      verdict = { accepted: false, refusal: `malformed ${kind}: ${issues}` };
    } else if (!run.envelope) {
      verdict = { accepted: false, refusal: 'the operation is not awaiting approval' };
    } else {
      const binding = { kind, operationId: run.operationId };
      const proof = proofOf(attempt);
      const toProve = { ...(proof ? { proof } : {}), digest: attempt.digest ?? null, reason: attempt.reason };
      facts = await this.directory.approverFacts(who, attempt.digest ?? '', signature ?? undefined, binding, toProve);
      const context = approvalContext(run, run.envelope.policy);
      verdict =
        kind === 'approve'
          ? judgeApproval(attempt as ApprovalAttempt, facts, context)
          : judgeRejection(attempt, facts, context);
    }
    const decided: Decided = { kind, who, facts, signature, at: new Date().toISOString(), verdict };
    const reason = String(attempt?.reason ?? '');
    const accepted = kind === 'approve' ? EventType.approvalGranted : EventType.approvalRejected;
    const type = verdict.accepted ? accepted : EventType.approvalRefused;
    // Recorded before it takes effect, so the ledger never shows the operation moving on first.
    await run.record(type, null, { round: seq, payload: decisionPayload(decided, given, reason, attempt, run) });
    takeEffect(run, decided, reason, attempt);
    run.describe();
    const refusal = verdict.accepted ? {} : { refusal: verdict.refusal };
    return { accepted: verdict.accepted, ...refusal, state: run.state, stillNeeded: run.stillNeeded() };
  }

  async acceptResolution(input: ResolveInput): Promise<DecisionResponse> {
    const { run } = this;
    if (run.patches.has(RESOLVE_JUDGED_PATCH)) return this.inTurn(() => this.judgeAndRecordResolution(input));
    if (run.state !== 'needs_intervention' || run.resolution) {
      const refusal = run.resolution
        ? 'the operation was already resolved'
        : `the operation is ${run.state}, not needs_intervention`;
      const round = ++this.messageSeq;
      await run.record(EventType.operationResolveRefused, null, { round, payload: { ...input, refusal } });
      return { accepted: false, refusal, state: run.state, stillNeeded: 0 };
    }
    run.resolution = input;
    return { accepted: true, state: run.state, stillNeeded: 0 };
  }

  /** A resolution is a decision: judged against the directory, signed where policy says, recorded when refused. */
  private async judgeAndRecordResolution(input: ResolveInput): Promise<DecisionResponse> {
    const { run } = this;
    const seq = ++this.messageSeq;
    const { given, who } = decider(String(input?.by ?? ''));
    const signature = typeof input?.signature === 'string' ? input.signature : null;
    let facts = unknownDecider();
    if (run.state === 'needs_intervention' && !run.resolution && run.envelope) {
      const resolution = { action: input.action, reason: input.reason };
      const binding = { kind: 'resolve' as const, operationId: run.operationId, resolution };
      const proof = proofOf(input);
      const toProve = {
        ...(proof ? { proof } : {}),
        digest: input.digest ?? null,
        reason: input.reason,
        action: input.action,
      };
      facts = await this.directory.approverFacts(who, input.digest ?? '', signature ?? undefined, binding, toProve);
    }
    const verdict = judgeResolution(input, facts, {
      decision: run.envelope?.policy ?? null,
      needsIntervention: run.state === 'needs_intervention',
      alreadyResolved: run.resolution !== null,
      state: run.state,
      currentDigest: run.digest ?? '',
    });
    const evidence = {
      kind: 'resolve',
      by: who,
      ...(given !== who ? { byAsGiven: given } : {}),
      action: input.action,
      reason: input.reason,
      digest: input.digest ?? null,
      ...decisionEvidence(signature, facts),
      resolverGroups: facts.groups,
    };
    if (!verdict.accepted) {
      const payload = { ...evidence, refusal: verdict.refusal };
      await run.record(EventType.operationResolveRefused, null, { round: seq, payload });
      return { accepted: false, refusal: verdict.refusal, state: run.state, stillNeeded: 0 };
    }
    run.resolution = { ...input, by: who };
    run.resolutionEvidence = evidence;
    return { accepted: true, state: run.state, stillNeeded: 0 };
  }

  /** A signal has no validator to answer: a malformed resolution is refused on the record instead. */
  refuseMalformedResolution(input: unknown, refusal: string): Promise<void> {
    const by = String((input as { by?: unknown } | null)?.by ?? '');
    // In turn with the decisions before it, so the ledger lists attempts in the order they came.
    return this.inTurn(() =>
      this.run.record(EventType.operationResolveRefused, null, {
        round: ++this.messageSeq,
        payload: { kind: 'resolve', by, refusal },
      }),
    );
  }
}
