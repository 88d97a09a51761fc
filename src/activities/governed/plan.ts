import { createHash } from 'node:crypto';
import { canonicalText } from '../../ledger/canonical.js';
import { decidePolicy } from '../../model/policy.js';
import { dryRunRefusal } from '../../model/contract.js';
import type { Envelope, TargetIdentity, ValidatedEnvelope } from '../../model/envelope.js';
import type { PlanResult, PlannedChange, StepSnapshot, ValidateResult } from '../../model/operation.js';
import type { SubmittedRequest } from '../../model/request.js';
import { parseRequest, traceIdOf } from '../../model/request.js';
import type { RollbackContract } from '../../model/contract.js';
import { faultPoint } from '../../faults.js';
import { asActivity } from './failures.js';
import type { WritDeps } from './deps.js';
import { operationEvent, stamped } from './events.js';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Binds an approval to exactly what is approved: the parameters, the targets' versions, the policy. */
export function approvalDigest(operationId: string, paramsHash: string, versions: string[], policyRevision: string): string {
  return sha256(canonicalText({ v: 1, operationId, paramsHash, targetVersions: versions, policyRevision }));
}

export function createPlanActivities(deps: WritDeps) {
  /**
   * What each step would change, read when the operation will wait for approval: an approver signs
   * a digest, and this is what it stands for (the digest binds the versions these were read at).
   */
  const previews = async (request: SubmittedRequest, snapshots: StepSnapshot[]): Promise<Array<PlannedChange | null>> => {
    const planned: Array<PlannedChange | null> = [];
    for (const [index, step] of request.steps.entries()) {
      try {
        const params = deps.registry.parseParams(step.connector, step.action, step.params);
        const preview = await deps.registry.action(step.connector, step.action).preview({ target: step.target, params }, snapshots[index]!);
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
        const parsed = parseRequest(input);
        const fallback = { operationId: input.operationId, correlationId: traceIdOf(input.traceparent), traceparent: input.traceparent, actor: { id: String(input.actor?.id ?? 'unknown'), kind: input.actor?.kind === 'service' ? 'service' as const : 'user' as const, groups: [] } };
        if (!parsed.ok) {
          await deps.appender.append(stamped(operationEvent(fallback, 'operation.planned', 'planned', { payload: { problem: parsed.problem } })));
          return { ok: false, problem: parsed.problem, envelope: null };
        }
        const request = parsed.request;
        const targets: TargetIdentity[] = [];
        const problems: string[] = [];
        request.steps.forEach((step, stepIndex) => {
          try {
            targets.push({ stepIndex, connector: step.connector, action: step.action, target: step.target, identity: deps.registry.action(step.connector, step.action).identity({ target: step.target, params: step.params }) });
          } catch (error) {
            problems.push(`steps.${stepIndex}: ${(error as Error).message}`);
            targets.push({ stepIndex, connector: step.connector, action: step.action, target: step.target, identity: `${step.connector}:${step.target}` });
          }
        });
        const envelope: Envelope = {
          operationId: input.operationId,
          actor: request.actor,
          correlationId: traceIdOf(input.traceparent),
          traceparent: input.traceparent,
          intent: request.intent,
          paramsHash: sha256(canonicalText(request.steps)),
          targets,
          mode: request.mode,
          labels: request.labels ?? {},
          requestedAt,
        };
        await deps.appender.append(stamped(operationEvent(envelope, 'operation.planned', 'planned', { payload: { envelope, ...(problems.length ? { problems } : {}) } })));
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
            snapshots.push(await action.snapshot(call));
          } catch (error) {
            if ((error as Error).name !== 'ConnectorInputError') throw error;
            problems.push(`${where}: ${(error as Error).message}`);
            snapshots.push({ version: 'unknown', state: null });
          }
        }
        const { policy, revision } = await deps.policy();
        const decision = decidePolicy(policy, revision, request, contracts);
        const validated: ValidatedEnvelope = { ...envelope, policy: decision };
        const digest = approvalDigest(envelope.operationId, envelope.paramsHash, snapshots.map((s) => s.version), revision);
        const summary = contracts.map((c) => ({ method: c.method, canRollback: c.canRollback, windowMs: c.windowMs }));
        if (problems.length) {
          await deps.appender.append(stamped(operationEvent(envelope, 'operation.validation_failed', 'validation_failed', { payload: { problems } })));
          return { ok: false, problems, envelope: validated, snapshots, approvalDigest: digest, contracts: summary };
        }
        await deps.appender.appendAll([
          stamped(operationEvent(envelope, 'policy.decided', null, { payload: { decision: { ...decision } } })),
          stamped(operationEvent(envelope, 'operation.validated', 'validated', { payload: { targetVersions: snapshots.map((s) => s.version), approvalDigest: digest, contracts: summary } })),
        ]);
        faultPoint('after-validate');
        const planned = decision.approvalsRequired > 0 && envelope.mode === 'execute' ? { planned: await previews(request, snapshots) } : {};
        return { ok: true, problems, envelope: validated, snapshots, approvalDigest: digest, contracts: summary, ...planned };
      });
    },

    /** Reads the targets' versions again right before execution: a changed target makes an approval stale. */
    async revalidate(envelope: ValidatedEnvelope, request: SubmittedRequest, approvedDigest?: string): Promise<{ versions: string[]; policyRevision: string; approvalDigest: string; planned?: Array<PlannedChange | null> }> {
      return asActivity(async () => {
        const snapshots: StepSnapshot[] = [];
        for (const step of request.steps) {
          const params = deps.registry.parseParams(step.connector, step.action, step.params);
          snapshots.push(await deps.registry.action(step.connector, step.action).snapshot({ target: step.target, params }));
        }
        const versions = snapshots.map((snapshot) => snapshot.version);
        const { revision } = await deps.policy();
        const digest = approvalDigest(envelope.operationId, envelope.paramsHash, versions, revision);
        // A stale approval is asked for again: the next approver is shown the plan as it is now.
        const planned = approvedDigest !== undefined && digest !== approvedDigest ? { planned: await previews(request, snapshots) } : {};
        return { versions, policyRevision: revision, approvalDigest: digest, ...planned };
      });
    },
  };
}
