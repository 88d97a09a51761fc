import { proxyActivities } from '@temporalio/workflow';
import type { CheckpointActivities } from '../activities/governed/index.js';

const { checkpointNow } = proxyActivities<CheckpointActivities>({ startToCloseTimeout: '5 minutes', retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['CONFIG'] } });

/** Run by the `writ-checkpoints` Temporal Schedule: a signed checkpoint of every chain. */
export async function writCheckpoint(): Promise<Array<{ chainId: string; size: number }>> {
  return checkpointNow();
}
