import type {
  ActivityInterfaceFor,
  ActivityOptions,
  LocalActivityInterfaceFor,
  LocalActivityOptions,
} from '@temporalio/workflow';
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type {
  DirectoryLookupActivities,
  LedgerAppendActivities,
  OutsideWriteActivities,
  PlanActivities,
  TargetCheckActivities,
} from '../../activities/governed/index.js';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../model/errors.js';
import { aroundActivities } from './around-activities.js';
import { LocalActivityTurns } from './local-activity-turns.js';
import type { RunPatches } from './run-patches.js';
import { retryingUnrequestedCancellations as ownCancellationsOnly } from './unrequested-cancellation.js';

/** The activities `governedWrite` calls, one proxy per group, and the options calls with a summary repeat. */
export interface GovernedActivities {
  ledger: LocalActivityInterfaceFor<LedgerAppendActivities>;
  /**
   * The same appends as a regular activity, for records whose payload the workflow derives from its
   * own clock (an approval's deadline). A local activity runs inside the workflow task: if that task
   * then fails to complete (its Temporal node dies), the retried task reads a later clock and would
   * append a different record under the same key. A regular activity's input is fixed in history
   * when it is scheduled, so every attempt appends the same record.
   */
  scheduledLedger: ActivityInterfaceFor<LedgerAppendActivities>;
  planner: LocalActivityInterfaceFor<PlanActivities>;
  directory: LocalActivityInterfaceFor<DirectoryLookupActivities>;
  checks: LocalActivityInterfaceFor<TargetCheckActivities>;
  outside: ActivityInterfaceFor<OutsideWriteActivities>;
  checkOptions: LocalActivityOptions;
  outsideOptions: ActivityOptions;
}

/** The same regular activities, `beforeWaiting()` called as each is scheduled. */
function announcingWaits<Activities extends object>(activities: Activities, beforeWaiting: () => void): Activities {
  return aroundActivities(activities, (_name, call) => {
    beforeWaiting();
    return call();
  });
}

/**
 * Ledger appends and short reads run as local activities: durable (recorded as markers, re-run
 * idempotently after a crash) without a round trip through the task queue each. Writes to the
 * outside world and their undoing stay regular activities, visible and retried by the server; the
 * run waits for each of those outside its worker, so `beforeWaiting` is called as each is scheduled.
 */
export function governedActivities(
  timeout: number,
  patches: RunPatches,
  beforeWaiting: () => void,
): GovernedActivities {
  const untilWritten = {
    startToCloseTimeout: timeout,
    // The ledger must eventually be written: keep retrying anything but what a retry cannot fix.
    retry: { initialInterval: '200ms', maximumInterval: '10s', nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
  };
  const retryOutside = {
    initialInterval: '500ms',
    maximumInterval: '10s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
  };
  // Outside systems get a few attempts; then the operation fails (and compensates) instead of hanging.
  const outsideOptions = { startToCloseTimeout: timeout, retry: retryOutside };
  const checkOptions = { startToCloseTimeout: timeout, retry: retryOutside };
  const turns = LocalActivityTurns.forThisRun(patches);
  return {
    ledger: ownCancellationsOnly(turns.wrap(proxyLocalActivities<LedgerAppendActivities>(untilWritten)), patches),
    scheduledLedger: announcingWaits(proxyActivities<LedgerAppendActivities>(untilWritten), beforeWaiting),
    planner: ownCancellationsOnly(turns.wrap(proxyLocalActivities<PlanActivities>(untilWritten)), patches),
    directory: ownCancellationsOnly(turns.wrap(proxyLocalActivities<DirectoryLookupActivities>(untilWritten)), patches),
    checks: ownCancellationsOnly(turns.wrap(proxyLocalActivities<TargetCheckActivities>(checkOptions)), patches),
    outside: announcingWaits(proxyActivities<OutsideWriteActivities>(outsideOptions), beforeWaiting),
    checkOptions,
    outsideOptions,
  };
}
