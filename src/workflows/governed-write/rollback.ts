import { log } from '@temporalio/workflow';
import { trySendAlert } from './alert.js';
import { EventType } from '../../model/events.js';
import type { OperationResult } from '../../model/operation.js';
import type { GovernedActivities } from './activities.js';
import type { ExecutedStep } from './failures.js';
import { failureMessage } from './failures.js';
import { recordOrGoOn, reportStepFailure } from './refused-records.js';
import type { OperationRun } from './operation.js';
import type { CompensationOutcome } from './saga.js';
import { Saga } from './saga.js';

/** The saga of one operation's steps: each executed step is undone by its connector's compensation. */
export function stepSaga(run: OperationRun, { outside, outsideOptions }: GovernedActivities): Saga<ExecutedStep> {
  return new Saga(async (done: ExecutedStep): Promise<CompensationOutcome> => {
    const step = run.request.steps[done.index]!;
    const { before, after, executedAt } = done;
    let result;
    try {
      result = await outside.compensateStep.executeWithOptions(
        { ...outsideOptions, summary: `roll back step ${done.index + 1}: ${step.action} ${step.target}` },
        [{ envelope: run.envelope!, step, stepIndex: done.index, before, after, executedAt }],
      );
    } catch (error) {
      result = { ok: false, error: failureMessage(error) };
      await reportStepFailure(run, EventType.stepCompensationFailed, 'compensating', done.index, {
        error: result.error,
      });
    }
    run.steps[done.index]!.status = result.ok ? 'compensated' : 'compensation_failed';
    run.describe();
    return result.ok ? { ok: true } : { ok: false, failure: `step ${done.index + 1}: ${result.error}` };
  });
}

/** The version marker of the needs-intervention alert (Temporal `patched`). */
export const NEEDS_INTERVENTION_ALERT_PATCH = 'writ-alert-needs-intervention';

/**
 * Undoes what was done and closes: rolled back when every compensation succeeded, else the
 * operation waits for a person to resolve it, and closes as resolved by hand.
 */
export async function rollBackAndClose(
  run: OperationRun,
  saga: Saga<ExecutedStep>,
  cause: string,
): Promise<OperationResult> {
  const toUndo = saga.completed;
  if (!toUndo.length) return run.close('failed', { cause });
  run.moveTo('compensating', cause);
  const failures = await saga.unwind();
  if (!failures.length) {
    run.moveTo('compensated');
    const steps = toUndo.map((d) => d.index);
    await recordOrGoOn(run, [run.event(EventType.operationCompensated, 'compensated', { payload: { cause, steps } })]);
    return run.close('rolled_back', { cause });
  }
  run.moveTo('compensation_failed', failures.join('; '));
  run.moveTo('needs_intervention');
  const howToResolve = `writ resolve ${run.operationId} --as <who> --action <what was done> --reason <why>`;
  await recordOrGoOn(run, [
    run.event(EventType.operationCompensationFailed, 'compensation_failed', { payload: { cause, failures } }),
    run.event(EventType.operationNeedsIntervention, 'needs_intervention', {
      payload: { cause, failures, howToResolve },
    }),
  ]);
  log.warn('operation needs intervention', { operationId: run.operationId, failures });
  // Histories recorded before alerts existed replay without the activity. Not awaited: a person
  // may resolve the operation while a receiver that is down is still being retried.
  if (run.patches.has(NEEDS_INTERVENTION_ALERT_PATCH)) {
    const alert = { kind: 'operation.needs_intervention' as const, operationId: run.operationId, cause, failures };
    void trySendAlert(alert, 'alert: needs intervention');
  }
  await run.waitFor(() => run.resolution !== null);
  const resolved = { ...run.resolution!, ...run.resolutionEvidence };
  await recordOrGoOn(run, [run.event(EventType.operationResolved, 'needs_intervention', { payload: resolved })]);
  return run.close('resolved_manually', { cause, resolution: run.resolution });
}
