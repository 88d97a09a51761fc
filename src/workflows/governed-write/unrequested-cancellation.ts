/**
 * The worker's SDK core (1.24) can hand a workflow a cancellation nobody asked for. When it evicts a
 * cached run (its cache is full, or a task failed) while one of that run's local activities is
 * waiting out a retry backoff, it cancels the activity and delivers the cancellation to the workflow
 * before the eviction (`managed_run.rs`, `_check_more_activations`: the immediate resolutions of
 * `CancelAllInRun` become a workflow activation). During a database outage many operations sit in
 * exactly that backoff, and each one evicted would fail with "Local Activity cancelled" and no
 * closing record.
 *
 * A cancellation is the workflow's own only when its scope was cancelled. Any other is the worker's
 * and says nothing about the activity: run it again, as a new local activity.
 */
import type { LocalActivityInterfaceFor } from '@temporalio/workflow';
import { CancellationScope, isCancellation, log } from '@temporalio/workflow';
import { aroundActivities } from './around-activities.js';
import type { RunPatches } from './run-patches.js';

/** Histories from before this retry failed the operation at this point; replaying them must too. */
const RETRY_PATCH = 'writ-retry-unrequested-local-activity-cancellation';

/** An eviction cancels at most what is in flight once; more than this in a row is not that. */
const MOST_IN_A_ROW = 10;

function isUnrequested(error: unknown): boolean {
  return isCancellation(error) && !CancellationScope.current().consideredCancelled;
}

async function untilNotCancelledByWorker(
  patches: RunPatches,
  name: string,
  call: () => Promise<unknown>,
): Promise<unknown> {
  for (let inARow = 0; ; inARow++) {
    try {
      return await call();
    } catch (error) {
      if (inARow >= MOST_IN_A_ROW || !isUnrequested(error) || !patches.has(RETRY_PATCH)) throw error;
      log.warn('the worker cancelled a local activity the operation did not cancel; running it again', {
        activity: name,
      });
    }
  }
}

/** The same local activities, each run again when the worker, not the workflow, cancelled it. */
export function retryingUnrequestedCancellations<T>(
  activities: LocalActivityInterfaceFor<T>,
  patches: RunPatches,
): LocalActivityInterfaceFor<T> {
  return aroundActivities(activities, (name, call) => untilNotCancelledByWorker(patches, name, call));
}
