import { createLedgerActivities } from '../ledger.js';
import type { WritDeps } from './deps.js';
import { createMessageActivities } from './messages.js';
import { createPlanActivities } from './plan.js';
import { createStepActivities } from './steps.js';

export type { WritDeps } from './deps.js';

/** Every activity of the governed-write workflow, bound to its dependencies. */
export function createActivities(deps: WritDeps) {
  return {
    ...createLedgerActivities(deps.appender),
    ...createPlanActivities(deps),
    ...createStepActivities(deps),
    ...createMessageActivities(deps),
  };
}

export type WritActivities = ReturnType<typeof createActivities>;

// The groups the workflows call, each through a proxy of its own kind and retry policy.
/** Appends lifecycle records: approvals, transitions, closing. */
export type LedgerAppendActivities = Pick<WritActivities, 'recordEvents'>;
/** Plans the operation: validates the request and records it as planned. */
export type PlanActivities = Pick<WritActivities, 'plan'>;
/** Reads what the approver directory says about a decider. */
export type DirectoryLookupActivities = Pick<WritActivities, 'approverFacts'>;
/** Read the targets and the policy, and record what they found: validation, revalidation, read-back. */
export type TargetCheckActivities = Pick<WritActivities, 'validate' | 'revalidate' | 'verifyStep'>;
/** Write to the outside world, and undo those writes. */
export type OutsideWriteActivities = Pick<WritActivities, 'executeStep' | 'compensateStep'>;
/** Signs checkpoints of every chain. */
export type CheckpointActivities = Pick<WritActivities, 'checkpointNow'>;
