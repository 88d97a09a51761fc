/**
 * Steps of the fault tests that must ride out the faults themselves: a call that meets a node
 * being killed or PostgreSQL restarting is retried, as a client in production would retry it.
 */
import type { Client } from '@temporalio/client';
import type { WritClient } from '../../../src/client.js';
import type { LoadRequest } from './fault-load.js';

/** Runs the tasks `width` at a time, retrying each one that fails for up to two minutes. */
export async function settle<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await retrying(tasks[index]!);
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  return results;
}

async function retrying<T>(task: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      return await task();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/**
 * A manager's decision. A retry after a lost answer finds the decision already made, or the
 * operation already closed by it: that is done, not an error (the outcome is checked at the end).
 */
export async function decide(writ: WritClient, operationId: string, request: LoadRequest): Promise<void> {
  // While PostgreSQL restarts, Temporal's matching service may have seen no poll from the worker
  // lately and refuses the state query; an approver asks again, as this does, within a bound.
  for (let attempt = 1; ; attempt++) {
    try {
      return await decideOnce(writ, operationId, request);
    } catch (error) {
      if (attempt >= 30 || !noPollerSeen(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function noPollerSeen(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown; details?: unknown } }).cause;
  return cause?.code === 9 && /no poller seen/.test(String(cause.details));
}

async function decideOnce(writ: WritClient, operationId: string, request: LoadRequest): Promise<void> {
  try {
    const state = await writ.state(operationId);
    if (state.state !== 'awaiting_approval') return;
    if (request.fate === 'reject') await writ.reject(operationId, { approver: 'bob', reason: 'not this one' });
    else await writ.approve(operationId, { approver: 'bob', reason: 'approved under load' });
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError' && /already completed/.test((error as Error).message)) return;
    throw error;
  }
}

/**
 * Retries the histories show: activity attempts beyond the first, and workflow tasks that timed
 * out or failed and ran again (a node or worker lost mid-task). Local activities re-run inside a
 * retried workflow task and leave no history of their own.
 */
export async function countRetries(
  client: Client,
  operationIds: string[],
): Promise<{ activityRetries: number; workflowTaskRetries: number }> {
  let activityRetries = 0;
  let workflowTaskRetries = 0;
  for (const id of operationIds) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    for (const event of history.events ?? []) {
      if ((event.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) activityRetries += 1;
      if (event.workflowTaskTimedOutEventAttributes || event.workflowTaskFailedEventAttributes)
        workflowTaskRetries += 1;
    }
  }
  return { activityRetries, workflowTaskRetries };
}
