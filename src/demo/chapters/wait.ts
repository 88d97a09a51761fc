import type { WritClient } from '../../client.js';
import type { OperationState } from '../../model/operation.js';

/** Polls the `state` query (cheap, read-only) until the operation is in `state`, or the story is abandoned. */
export async function waitForState(
  writ: WritClient,
  operationId: string,
  state: string,
  signal: AbortSignal,
  timeoutMs = 60_000,
): Promise<OperationState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal.throwIfAborted();
    const current = await writ.state(operationId).catch(() => null);
    if (current?.state === state) return current;
    if (Date.now() > deadline)
      throw new Error(
        `operation ${operationId} did not reach ${state} within ${timeoutMs / 1000} s (it is ${current?.state ?? 'not answering'})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The path an operation took, as the lifecycle names it. */
export function path(state: OperationState): string {
  return (
    state.transitions.map((transition) => transition.to).join(' -> ') + (state.outcome ? ` (${state.outcome})` : '')
  );
}
