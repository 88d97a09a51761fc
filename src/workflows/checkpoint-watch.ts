import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { AlertActivities } from '../alerts/activities.js';
import { NON_RETRYABLE_FAILURE_TYPES } from '../model/errors.js';
import { trySendAlert } from './governed-write/alert.js';

const { findStaleCheckpoints } = proxyActivities<Pick<AlertActivities, 'findStaleCheckpoints'>>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

export interface CheckpointWatchResult {
  /** The stale episodes already alerted, `<chain>@<checkpointed size>`, carried to the next run. */
  alerted: string[];
}

/**
 * Run by the `writ-checkpoint-watch` Temporal Schedule: alerts when a chain's records have waited
 * longer than `maxAgeMs` for a signed checkpoint. Each stale episode alerts once: the Schedule
 * hands every run the previous run's result, which names the episodes already alerted; an episode
 * ends when a checkpoint covers more of the chain. An alert that could not be delivered is tried
 * again on the next run.
 */
export async function writCheckpointWatch({ maxAgeMs }: { maxAgeMs: number }): Promise<CheckpointWatchResult> {
  const previous = new Set((workflowInfo().lastResult as CheckpointWatchResult | undefined)?.alerted ?? []);
  const alerted: string[] = [];
  for (const stale of await findStaleCheckpoints({ maxAgeMs })) {
    const episode = `${stale.chainId}@${stale.checkpointedSize}`;
    if (previous.has(episode)) alerted.push(episode);
    else if (
      await trySendAlert({ kind: 'checkpoint.stale', ...stale, maxAgeMs }, `alert: chain ${stale.chainId} stale`)
    )
      alerted.push(episode);
  }
  return { alerted };
}
