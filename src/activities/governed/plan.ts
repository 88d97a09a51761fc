import { createHash } from 'node:crypto';
import { canonicalText } from '../../verify/canonical.js';
import type { PolicyStep } from '../../model/policy.js';
import { decidePolicy } from '../../model/policy.js';
import { dryRunRefusal } from '../../model/contract.js';
import type { Envelope, EnvelopeRef, TargetIdentity, ValidatedEnvelope } from '../../model/envelope.js';
import type { PlanResult, PlannedChange, StepSnapshot, ValidateResult } from '../../model/operation.js';
import type { SubmittedRequest } from '../../model/request.js';
import { actorSchema, parseRequest, traceIdOf } from '../../model/request.js';
import { isTraceparent, traceparentOrNew } from '../../model/trace-context.js';
import { Context } from '@temporalio/activity';
import type { RollbackContract } from '../../model/contract.js';
import { faultPoint } from './faults.js';
import { asActivity } from '../failures.js';
import { ensureError, hasCode } from '../../model/errors.js';
import type { WritDeps } from './deps.js';
import { operationEvent, stamped } from './events.js';
import { EventType } from '../../model/events.js';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Binds an approval to exactly what is approved: the parameters, the targets' versions, the policy. */
export function approvalDigest(
  operationId: string,
  paramsHash: string,
  versions: string[],
  policyRevision: string,
): string {
  return sha256(canonicalText({ v: 1, operationId, paramsHash, targetVersions: versions, policyRevision }));
}

/** An operation's id and its workflow id are one: a request claiming another id is refused. */
function refuseForeignId<T extends { ok: boolean }>(
  parsed: T | { ok: false; problem: string },
  input: SubmittedRequest,
  workflowId: string | undefined,
): T | { ok: false; problem: string } {
  if (!parsed.ok || workflowId === undefined || input.operationId === workflowId) return parsed;
  return {
    ok: false,
    problem: `operationId ${JSON.stringify(summariseValue(input.operationId))} is not this operation's workflow id ${JSON.stringify(summariseValue(workflowId))}: an operation's id and its workflow id are one (WritClient starts every operation with workflowId = operationId)`,
  };
}

/** Who and what a refused request is recorded as: only what is well formed, nothing it merely claims. */
function refusalIdentity(
  input: SubmittedRequest,
  workflowId: string | undefined,
  runId: string | undefined,
): EnvelopeRef {
  const id = workflowId ?? 'unknown';
  // A workflow id that could not be an operationId still gets a record, under a name derived from it.
  const operationId = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(id) ? id : `workflow-${sha256(id)}`;
  // Derived, not random: a retry of this activity must draft the very same record.
  // A malformed one cannot go on the record; with none, the refusal gets a trace like any operation.
  const traceparent = traceparentOrNew(isTraceparent(input?.traceparent) ? input.traceparent : undefined, () =>
    sha256(`${id}/${runId ?? ''}`),
  );
  const actor = actorSchema.safeParse(input?.actor);
  return {
    operationId,
    correlationId: traceIdOf(traceparent),
    traceparent,
    actor: actor.success ? actor.data : { id: 'unknown', kind: 'user', groups: [] },
  };
}

/** A value quoted in a record about hostile input: short strings as they are, anything else summarised. */
function summariseValue(value: unknown): string {
  if (typeof value === 'string')
    return value.length > 200 ? `${value.slice(0, 200)}… (${value.length} characters)` : value;
  return value === undefined ? '(absent)' : `(${Array.isArray(value) ? 'array' : typeof value})`;
}

export function createPlanActivities(deps: WritDeps) {
  /**
   * What each step would change, read when the operation will wait for approval: an approver signs
   * a digest, and this is what it stands for (the digest binds the versions these were read at).
   */
  const previews = async (
    request: SubmittedRequest,
    snapshots: StepSnapshot[],
  ): Promise<Array<PlannedChange | null>> => {
    const planned: Array<PlannedChange | null> = [];
    for (const [index, step] of request.steps.entries()) {
      try {
        const params = deps.registry.parseParams(step.connector, step.action, step.params);
        const preview = await deps.registry
          .action(step.connector, step.action)
          .preview({ target: step.target, params }, snapshots[index]!);
        planned.push({ before: preview.before, after: preview.after, summary: preview.summary });
      } catch {
        planned.push(null);
      }
    }
    return planned;
  };

  return {
    /** Validates the request again (it may not have come through our client) and fixes the envelope. */
    async plan(input: SubmittedRequest, requestedAt: string): Promise<PlanResult> {
      return asActivity(async () => {
        const workflowId = Context.current().info.workflowExecution?.workflowId;
        const parsed = refuseForeignId(parseRequest(input), input, workflowId);
        if (!parsed.ok) {
          // Recorded under the workflow's own id, never the id the request claims: a request must
          // not be able to file records (or take keys) in another operation's name.
          const recordedAs = refusalIdentity(input, workflowId, Context.current().info.workflowExecution?.runId);
          const problem =
            parsed.problem.length > 2000
              ? `${parsed.problem.slice(0, 2000)}… (${parsed.problem.length} characters)`
              : parsed.problem;
          await deps.appender.append(
            stamped(
              operationEvent(recordedAs, EventType.operationPlanned, 'planned', {
                payload: {
                  problem,
                  ...(input?.operationId !== recordedAs.operationId
                    ? { claimedOperationId: summariseValue(input?.operationId) }
                    : {}),
                },
              }),
            ),
          );
          return { ok: false, problem, envelope: null, recordedAs };
        }
        const request = parsed.request;
        // Groups are the directory's, never the request's: what the request claims is kept as a claim.
        const people = deps.directory ? await deps.directory() : undefined;
        const actor = { ...request.actor, groups: people?.groupsOf(request.actor.id) ?? [] };
        const claimedGroups = request.actor.groups;
        const targets: TargetIdentity[] = [];
        const problems: string[] = [];
        request.steps.forEach((step, stepIndex) => {
          try {
            targets.push({
              stepIndex,
              connector: step.connector,
              action: step.action,
              target: step.target,
              identity: deps.registry
                .action(step.connector, step.action)
                .identity({ target: step.target, params: step.params }),
            });
          } catch (error) {
            problems.push(`steps.${stepIndex}: ${ensureError(error).message}`);
            targets.push({
              stepIndex,
              connector: step.connector,
              action: step.action,
              target: step.target,
              identity: `${step.connector}:${step.target}`,
            });
          }
        });
        const envelope: Envelope = {
          operationId: input.operationId,
          actor,
          correlationId: traceIdOf(input.traceparent),
          traceparent: input.traceparent,
          intent: request.intent,
          paramsHash: sha256(canonicalText(request.steps)),
          targets,
          mode: request.mode,
          labels: request.labels ?? {},
          requestedAt,
        };
        await deps.appender.append(
          stamped(
            operationEvent(envelope, EventType.operationPlanned, 'planned', {
              payload: {
                envelope,
                ...(claimedGroups.length ? { claimedGroups } : {}),
                ...(problems.length ? { problems } : {}),
              },
            }),
          ),
        );
        faultPoint('after-plan');
        return problems.length ? { ok: false, problem: problems.join('; '), envelope } : { ok: true, envelope };
      });
    },

    /** Checks every step against its connector and the outside system, then decides policy. */
    async validate(envelope: Envelope, request: SubmittedRequest): Promise<ValidateResult> {
      return asActivity(async () => {
        const problems: string[] = [];
        const snapshots: StepSnapshot[] = [];
        const contracts: RollbackContract[] = [];
        const steps: PolicyStep[] = [];
        for (const [index, step] of request.steps.entries()) {
          const where = `steps.${index} (${step.connector}.${step.action} ${step.target})`;
          try {
            const action = deps.registry.action(step.connector, step.action);
            contracts.push(action.contract);
            const params = deps.registry.parseParams(step.connector, step.action, step.params);
            if (request.mode === 'dry-run') {
              const refusal = dryRunRefusal(action.contract);
              if (refusal) problems.push(`${where}: dry run refused: ${refusal}`);
            }
            const call = { target: step.target, params };
            for (const problem of await action.validate(call)) problems.push(`${where}: ${problem}`);
            const before = await action.snapshot(call);
            snapshots.push(before);
            // Policy sees the target as the connector resolves it and the action by its effect.
            steps.push(await deps.registry.policyStep(step.connector, step.action, call, before));
          } catch (error) {
            if (!hasCode(error, 'CONNECTOR_INPUT')) throw error;
            problems.push(`${where}: ${error.message}`);
            if (snapshots.length === index) snapshots.push({ version: 'unknown', state: null });
            steps.push({
              connector: step.connector,
              action: step.action,
              effectiveAction: step.action,
              effect: 'unknown',
              target: step.target,
              identity: envelope.targets[index]?.identity ?? `${step.connector}:${step.target}`,
            });
          }
        }
        const loaded = await deps.policy();
        const { policy, revision } = loaded;
        const people = deps.directory ? await deps.directory() : undefined;
        const requester = {
          id: envelope.actor.id,
          groups: people?.groupsOf(envelope.actor.id) ?? [],
          claimedGroups: request.actor.groups,
        };
        const decision = {
          ...decidePolicy(
            policy,
            revision,
            { requesterGroups: requester.groups, labels: request.labels ?? {}, steps },
            contracts,
          ),
          ...(people ? { directoryVersion: people.version } : {}),
        };
        // On the record before any decision names them (once per revision, whichever worker is first).
        await deps.governance?.policy(loaded);
        if (people) await deps.governance?.directory(people);
        const validated: ValidatedEnvelope = { ...envelope, policy: decision };
        const digest = approvalDigest(
          envelope.operationId,
          envelope.paramsHash,
          snapshots.map((s) => s.version),
          revision,
        );
        const summary = contracts.map((c) => ({ method: c.method, canRollback: c.canRollback, windowMs: c.windowMs }));
        if (problems.length) {
          await deps.appender.append(
            stamped(
              operationEvent(envelope, EventType.operationValidationFailed, 'validation_failed', {
                payload: { problems },
              }),
            ),
          );
          return { ok: false, problems, envelope: validated, snapshots, approvalDigest: digest, contracts: summary };
        }
        await deps.appender.appendAll([
          stamped(
            operationEvent(envelope, EventType.policyDecided, null, {
              payload: {
                decision: { ...decision },
                requester,
                steps: steps.map((s, stepIndex) => ({ stepIndex, ...s })),
              },
            }),
          ),
          stamped(
            operationEvent(envelope, EventType.operationValidated, 'validated', {
              payload: { targetVersions: snapshots.map((s) => s.version), approvalDigest: digest, contracts: summary },
            }),
          ),
        ]);
        faultPoint('after-validate');
        const planned =
          decision.approvalsRequired > 0 && envelope.mode === 'execute'
            ? { planned: await previews(request, snapshots) }
            : {};
        return {
          ok: true,
          problems,
          envelope: validated,
          snapshots,
          approvalDigest: digest,
          contracts: summary,
          ...planned,
        };
      });
    },

    /** Reads the targets' versions again right before execution: a changed target makes an approval stale. */
    async revalidate(
      envelope: ValidatedEnvelope,
      request: SubmittedRequest,
      approvedDigest?: string,
    ): Promise<{
      versions: string[];
      policyRevision: string;
      approvalDigest: string;
      planned?: Array<PlannedChange | null>;
    }> {
      return asActivity(async () => {
        const snapshots: StepSnapshot[] = [];
        for (const step of request.steps) {
          const params = deps.registry.parseParams(step.connector, step.action, step.params);
          snapshots.push(
            await deps.registry.action(step.connector, step.action).snapshot({ target: step.target, params }),
          );
        }
        const versions = snapshots.map((snapshot) => snapshot.version);
        const loaded = await deps.policy();
        const { revision } = loaded;
        // A changed policy makes the approval digest name a new revision: on the record before it is used.
        await deps.governance?.policy(loaded);
        const digest = approvalDigest(envelope.operationId, envelope.paramsHash, versions, revision);
        // A stale approval is asked for again: the next approver is shown the plan as it is now.
        const planned =
          approvedDigest !== undefined && digest !== approvedDigest
            ? { planned: await previews(request, snapshots) }
            : {};
        return { versions, policyRevision: revision, approvalDigest: digest, ...planned };
      });
    },
  };
}
