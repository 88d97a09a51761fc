import { workflowInfo } from '@temporalio/workflow';
import { EventType } from '../../model/events.js';
import type { StepView } from '../../model/operation.js';
import { WRIT_SEARCH_ATTRIBUTES } from '../../model/search-attributes.js';
import type { GovernedActivities } from './activities.js';
import { failureMessage, isScheduledActivityKeyConflict } from './failures.js';
import type { Closed, OperationRun } from './operation.js';

type Validation = Awaited<ReturnType<GovernedActivities['checks']['validate']>>;
type Plan = Awaited<ReturnType<GovernedActivities['planner']['plan']>>;

/** Shows each step's planned change, as validated or as re-read after an approval. */
export function showPlanned(run: OperationRun, planned: ReadonlyArray<StepView['planned']> | undefined): void {
  planned?.forEach((change, index) => {
    if (run.steps[index]) run.steps[index].planned = change ?? null;
  });
}

/** Closes as invalid; `note` explains the transition (none when the plan gave no problem). */
async function invalid(run: OperationRun, problem: string, note: string | undefined): Promise<Closed> {
  run.moveTo('validation_failed', note);
  await run.record(EventType.operationValidationFailed, 'validation_failed', { payload: { problems: [problem] } });
  return { closed: await run.close('invalid') };
}

async function plan(run: OperationRun, { planner }: GovernedActivities): Promise<Plan> {
  try {
    return await planner.plan(run.request, new Date(workflowInfo().startTime).toISOString());
  } catch (error) {
    // The plan's record was refused (its key held another record; the ledger recorded the
    // conflict): nothing has been written, and nothing will be under a plan the ledger lacks. The
    // planner runs as a local activity, whose refusal is not taken here, so the run fails: a
    // request started again after it closed must not record its operation as invalid after that.
    if (!isScheduledActivityKeyConflict(error) || !run.patches.has('writ-close-when-plan-record-conflicted'))
      throw error;
    return { ok: false, problem: failureMessage(error), envelope: null };
  }
}

/** Plans and validates the request and decides policy; closes the operation as invalid when it is. */
export async function planAndValidate(run: OperationRun, activities: GovernedActivities): Promise<Validation | Closed> {
  const planned = await plan(run, activities);
  // A refused request's records go on under the identity its refusal was recorded under.
  if (planned.recordedAs) Object.assign(run.ref, planned.recordedAs);
  if (planned.envelope) run.ref.actor = planned.envelope.actor;
  // Every later record of the operation goes to the chain its first record went to.
  if (planned.envelope?.chain !== undefined) run.ref.chain = planned.envelope.chain;
  if (!planned.ok || !planned.envelope) return invalid(run, planned.problem ?? 'invalid request', planned.problem);
  let validation: Validation;
  try {
    const summary = `validate ${run.request.steps.length} step(s) and decide policy`;
    const options = { ...activities.checkOptions, summary };
    validation = await activities.checks.validate.executeWithOptions(options, [planned.envelope, run.request]);
  } catch (error) {
    return invalid(run, failureMessage(error), failureMessage(error));
  }
  run.envelope = validation.envelope;
  run.digest = validation.approvalDigest;
  showPlanned(run, validation.planned);
  run.searchAttributes.set([{ key: WRIT_SEARCH_ATTRIBUTES.risk, value: validation.envelope.policy.risk }]);
  if (!validation.ok) {
    run.moveTo('validation_failed', validation.problems.join('; '));
    return { closed: await run.close('invalid') };
  }
  run.moveTo('validated');
  return validation;
}
