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
