import { proxyActivities } from '@temporalio/workflow';
import type { CheckpointActivities } from '../activities/governed/index.js';
import { NON_RETRYABLE_FAILURE_TYPES } from '../model/errors.js';

const { checkpointNow } = proxyActivities<CheckpointActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/** Run by the `writ-checkpoints` Temporal Schedule: a signed checkpoint of every chain. */
export async function writCheckpoint(): Promise<Array<{ chainId: string; size: number }>> {
  return checkpointNow();
}
