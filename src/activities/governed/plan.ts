import { Context } from '@temporalio/activity';
import { canonicalText } from '../../verify/canonical.js';
import type { Envelope, TargetIdentity, ValidatedEnvelope } from '../../model/envelope.js';
import type { PlanResult, ValidateResult } from '../../model/operation.js';
import type { Step, SubmittedRequest } from '../../model/request.js';
import { parseRequest, traceIdOf } from '../../model/request.js';
import { EventType } from '../../model/events.js';
import { ensureError } from '../../model/errors.js';
import { asActivity } from '../failures.js';
import type { WritDeps } from './deps.js';
import { operationEvent, stamped } from './events.js';
import { faultPoint } from './faults.js';
import { recordRefusal, refuseForeignId } from './refusal.js';
import type { RevalidateResult } from './revalidate.js';
import { revalidateOperation } from './revalidate.js';
import { sha256Hex } from '../../verify/hash.js';
import { validateOperation } from './validate.js';
import { findRequester } from './request-identity.js';
import { identityEvidence } from '../../model/identity-proof.js';

export function createPlanActivities(deps: WritDeps) {
  return {
    /** Validates the request again (it may not have come through our client) and fixes the envelope. */
    async plan(input: SubmittedRequest, requestedAt: string): Promise<PlanResult> {
      return asActivity(() => planOperation(deps, input, requestedAt));
    },

    /** Checks every step against its connector and the outside system, then decides policy. */
    async validate(envelope: Envelope, request: SubmittedRequest): Promise<ValidateResult> {
      return asActivity(() => validateOperation(deps, envelope, request));
    },

    /** Reads the targets' versions again right before execution: a changed target makes an approval stale. */
    async revalidate(
      envelope: ValidatedEnvelope,
      request: SubmittedRequest,
      approvedDigest?: string,
    ): Promise<RevalidateResult> {
      return asActivity(() => revalidateOperation(deps, envelope, request, approvedDigest));
    },
  };
}

async function planOperation(deps: WritDeps, input: SubmittedRequest, requestedAt: string): Promise<PlanResult> {
  const execution = Context.current().info.workflowExecution;
  const parsed = refuseForeignId(parseRequest(input), input, execution?.workflowId);
  if (!parsed.ok) return recordRefusal(deps, input, parsed.problem, execution?.workflowId, execution?.runId);
  const request = parsed.request;
  const requester = await findRequester(deps, { ...request, operationId: input.operationId });
  if (!requester.ok) {
    const evidence = { identity: identityEvidence(requester.identity) };
    return recordRefusal(deps, input, requester.problem, execution?.workflowId, execution?.runId, evidence);
  }
  // Groups are the directory's, never the request's: what the request claims is kept as a claim.
  const { actor } = requester;
  const claimedGroups = request.actor.groups;
  const { targets, problems } = identifyTargets(deps, request.steps);
  // Chosen here, with the operation's first record, and carried in the envelope from then on.
  const chain = await deps.chains?.forOperation(input.operationId);
  const envelope: Envelope = {
    operationId: input.operationId,
    actor,
    correlationId: traceIdOf(input.traceparent),
    traceparent: input.traceparent,
    intent: request.intent,
    paramsHash: sha256Hex(canonicalText(request.steps)),
    targets,
    mode: request.mode,
    labels: request.labels ?? {},
    requestedAt,
    ...(chain === undefined ? {} : { chain }),
  };
  await deps.appender.append(
    stamped(
      operationEvent(envelope, EventType.operationPlanned, 'planned', {
        payload: {
          envelope,
          identity: identityEvidence(requester.identity),
          ...(requester.actorAsGiven !== undefined ? { actorAsGiven: requester.actorAsGiven } : {}),
          ...(requester.directoryVersion !== undefined ? { directoryVersion: requester.directoryVersion } : {}),
          ...(claimedGroups.length ? { claimedGroups } : {}),
          ...(problems.length ? { problems } : {}),
        },
      }),
    ),
  );
  faultPoint('after-plan');
  return problems.length ? { ok: false, problem: problems.join('; '), envelope } : { ok: true, envelope };
}

/** Each step's target as its connector names it; a target the connector cannot name is a problem. */
function identifyTargets(deps: WritDeps, steps: Step[]): { targets: TargetIdentity[]; problems: string[] } {
  const targets: TargetIdentity[] = [];
  const problems: string[] = [];
  steps.forEach((step, stepIndex) => {
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
  return { targets, problems };
}
