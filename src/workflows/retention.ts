import { proxyActivities } from '@temporalio/workflow';
import type { RetentionActivities } from '../activities/retention.js';
import { NON_RETRYABLE_FAILURE_TYPES } from '../model/errors.js';

const { applyRetentionNow } = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '30 minutes',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/** Run by the `writ-retention` Temporal Schedule: every retention class applied as of now. */
export async function writRetention(): Promise<Array<{ class: string; pruned: number; heldBack: number }>> {
  const runs = await applyRetentionNow();
  return runs.map((run) => ({ class: run.class, pruned: run.pruned, heldBack: run.heldBack }));
}
