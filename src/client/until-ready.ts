import { isGrpcServiceError } from '@temporalio/client';
import proto from '@temporalio/proto';
import { WritError } from '../model/errors.js';

/** gRPC's status code FAILED_PRECONDITION, which Temporal gives WorkflowNotReady. */
const FAILED_PRECONDITION = 9;
const NOT_READY_DETAIL = 'type.googleapis.com/temporal.api.errordetails.v1.WorkflowNotReadyFailure';

/** How long a decision keeps being offered to a workflow whose task is failing, by default. */
export const DEFAULT_NOT_READY_PATIENCE_MS = 30_000;

/** The gRPC error under what the SDK threw: it wraps service errors in a ServiceError's cause. */
function grpcErrorOf(error: unknown): unknown {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    if (isGrpcServiceError(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Temporal's WorkflowNotReady: the workflow task an update or query rode on was failed by the
 * server (it refused the worker's completion), or the workflow's task has failed three times in a
 * row and Temporal refuses new updates until one succeeds. Either way nothing of the call reached
 * history, so it can be sent again.
 */
export function isWorkflowNotReady(error: unknown): boolean {
  const grpc = grpcErrorOf(error);
  if (!isGrpcServiceError(grpc) || grpc.code !== FAILED_PRECONDITION) return false;
  const detailsBin = grpc.metadata?.get('grpc-status-details-bin')?.[0];
  if (!detailsBin || typeof detailsBin === 'string') return false;
  return proto.google.rpc.Status.decode(detailsBin).details.some((detail) => detail.type_url === NOT_READY_DETAIL);
}

export interface UntilReadyOptions {
  patienceMs?: number;
  /** Test seam for the pause between attempts; a real timer otherwise. */
  sleep?: (ms: number) => Promise<void>;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `call` until the workflow is ready for it, for `patienceMs` at most. A transient workflow
 * task failure (a worker restarting, a task the server refused under load) must not turn an
 * approver's decision into an error: the caller would believe it was refused, or send it again as
 * a second decision. Callers pass one update id to every attempt, so Temporal takes a decision
 * once however many attempts reach it.
 */
export async function untilReady<T>(what: string, call: () => Promise<T>, options: UntilReadyOptions = {}): Promise<T> {
  const patienceMs = options.patienceMs ?? DEFAULT_NOT_READY_PATIENCE_MS;
  const sleep = options.sleep ?? pause;
  const deadline = Date.now() + patienceMs;
  for (let attempt = 1, delay = 200; ; attempt++, delay = Math.min(delay * 2, 2_000)) {
    try {
      return await call();
    } catch (error) {
      if (!isWorkflowNotReady(error)) throw error;
      if (Date.now() + delay > deadline) {
        const said = (grpcErrorOf(error) as { details?: string }).details ?? String(error);
        throw new WritError(
          'WORKFLOW_NOT_READY',
          `${what}: the operation's workflow task kept failing for ${Math.round(patienceMs / 1000)} s (${attempt} attempts; Temporal: ${said}); nothing was recorded`,
          "check the worker's log for the failing workflow task, then send it again",
          { cause: error },
        );
      }
      await sleep(delay);
    }
  }
}
