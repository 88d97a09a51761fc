import { uuid4, workflowInfo } from '@temporalio/workflow';
import type { OperationResult } from '../../model/operation.js';
import type { SubmittedRequest } from '../../model/request.js';
import { traceparentOrNew } from '../../model/trace-context.js';
import { governedActivities } from './activities.js';
import { approvalRounds } from './approval-round.js';
import { DecisionDesk } from './decisions.js';
import { executeSteps } from './execute.js';
import { handleMessages } from './handlers.js';
import { OperationRun } from './operation.js';
import { RunPatches } from './run-patches.js';
import { SearchAttributeUpdates } from './search-attribute-updates.js';
import { planAndValidate } from './plan.js';

export interface GovernedWriteSettings {
  /** Start-to-close timeout of each activity; a crashed worker's activity is retried after it. */
  activityTimeoutMs?: number;
}

/**
 * A start that carried no trace at all still gets one. Writ's workflow interceptor already gives
 * it one; this covers bundles built without the interceptor.
 */
function withTraceparent(request: SubmittedRequest): SubmittedRequest {
  if (!request || typeof request !== 'object') return request;
  const randomHex = () => uuid4().replaceAll('-', '') + uuid4().replaceAll('-', '');
  const traceparent = traceparentOrNew(request.traceparent, randomHex);
  return traceparent === request.traceparent ? request : { ...request, traceparent };
}

/**
 * One governed write: plan, validate and decide policy, wait for approval when policy says so,
 * execute and verify each step, roll back in reverse when one fails, close. Every step is an
 * activity that appends its own records to the ledger.
 */
export async function governedWrite(
  submitted: SubmittedRequest,
  settings: GovernedWriteSettings = {},
): Promise<OperationResult> {
  const request = withTraceparent(submitted);
  // In the run's first task, before any await: a replay meets its marker there (run-patches.ts).
  const patches = RunPatches.forThisRun();
  const searchAttributes = new SearchAttributeUpdates(patches.searchAttributesAtWaits);
  const activities = governedActivities(settings.activityTimeoutMs ?? 60_000, patches, () =>
    searchAttributes.upsertPending(),
  );
  // An operation's id and its workflow id are one; the plan activity refuses a request claiming
  // another, and every record is filed under this id, never under the one a request claims.
  const run = new OperationRun(
    request,
    workflowInfo().workflowId,
    patches,
    searchAttributes,
    activities.ledger,
    activities.scheduledLedger,
  );
  handleMessages(run, new DecisionDesk(run, activities.directory));
  run.describe();

  const validation = await planAndValidate(run, activities);
  if ('closed' in validation) return validation.closed;
  const expectedVersions = await approvalRounds(run, activities, validation);
  if ('closed' in expectedVersions) return expectedVersions.closed;
  return executeSteps(run, activities, expectedVersions);
}
