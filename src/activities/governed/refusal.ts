import type { EnvelopeRef } from '../../model/envelope.js';
import { EventType } from '../../model/events.js';
import type { PlanResult } from '../../model/operation.js';
import type { SubmittedRequest } from '../../model/request.js';
import { actorSchema, traceIdOf } from '../../model/request.js';
import { isTraceparent, traceparentOrNew } from '../../model/trace-context.js';
import type { WritDeps } from './deps.js';
import { recordedOperationId } from '../recorded-operation-id.js';
import { operationEvent, stamped } from './events.js';
import { sha256Hex } from '../../verify/hash.js';

/** An operation's id and its workflow id are one: a request claiming another id is refused. */
export function refuseForeignId<T extends { ok: boolean }>(
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

/**
 * Records a request that cannot be planned. Recorded under the workflow's own id, never the id the
 * request claims: a request must not be able to file records (or take keys) in another operation's name.
 */
export async function recordRefusal(
  deps: WritDeps,
  input: SubmittedRequest,
  refusal: string,
  workflowId: string | undefined,
  runId: string | undefined,
  evidence: Record<string, unknown> = {},
): Promise<PlanResult> {
  const identity = refusalIdentity(input, workflowId, runId);
  const chain = await deps.chains?.forOperation(identity.operationId);
  const recordedAs: EnvelopeRef = chain === undefined ? identity : { ...identity, chain };
  const problem = refusal.length > 2000 ? `${refusal.slice(0, 2000)}… (${refusal.length} characters)` : refusal;
  await deps.appender.append(
    stamped(
      operationEvent(recordedAs, EventType.operationPlanned, 'planned', {
        payload: {
          problem,
          ...evidence,
          ...(input?.operationId !== recordedAs.operationId
            ? { claimedOperationId: summariseValue(input?.operationId) }
            : {}),
        },
      }),
    ),
  );
  return { ok: false, problem, envelope: null, recordedAs };
}

/** Who and what a refused request is recorded as: only what is well formed, nothing it merely claims. */
function refusalIdentity(
  input: SubmittedRequest,
  workflowId: string | undefined,
  runId: string | undefined,
): EnvelopeRef {
  const id = workflowId ?? 'unknown';
  // A workflow id that could not be an operationId still gets a record, under a name derived from it.
  const operationId = recordedOperationId(id);
  // Derived, not random: a retry of this activity must draft the very same record.
  // A malformed one cannot go on the record; with none, the refusal gets a trace like any operation.
  const traceparent = traceparentOrNew(isTraceparent(input?.traceparent) ? input.traceparent : undefined, () =>
    sha256Hex(`${id}/${runId ?? ''}`),
  );
  const actor = actorSchema.safeParse(input?.actor);
  return {
    operationId,
    correlationId: traceIdOf(traceparent),
    traceparent,
    actor: { ...(actor.success ? actor.data : { id: 'unknown', kind: 'user', groups: [] }), identity: 'asserted' },
  };
}

/** A value quoted in a record about hostile input: short strings as they are, anything else summarised. */
function summariseValue(value: unknown): string {
  if (typeof value === 'string')
    return value.length > 200 ? `${value.slice(0, 200)}… (${value.length} characters)` : value;
  return value === undefined ? '(absent)' : `(${Array.isArray(value) ? 'array' : typeof value})`;
}
