import { log, patched } from '@temporalio/workflow';
import type { EventType } from '../../model/events.js';
import { failureMessage, isKeyConflict } from './failures.js';
import type { OperationRun } from './operation.js';

/** The version marker of going on past a step-failure report the ledger refused (Temporal `patched`). */
export const REFUSED_FAILURE_REPORT_PATCH = 'writ-go-on-past-refused-failure-report';

type ReportedState = Parameters<OperationRun['record']>[1];

/**
 * Records the workflow's own report that a step failed. Its key may already hold a record: the
 * activity's own report of the same failure, written before the activity was lost to the workflow
 * (its worker killed, the retries timing out), or one an insider planted there to stop the
 * operation in its tracks. The ledger has then recorded this report, refused, as a conflict, so
 * what the workflow meant to say is on the record. The failure stands either way, so the operation
 * goes on to undo what was done and close, instead of failing with a write left in place and no
 * closing record.
 */
export async function reportStepFailure(
  run: OperationRun,
  type: EventType,
  to: ReportedState,
  stepIndex: number,
  error: string,
): Promise<void> {
  try {
    await run.record(type, to, { stepIndex, payload: { error } });
  } catch (refusal) {
    if (!isKeyConflict(refusal) || !patched(REFUSED_FAILURE_REPORT_PATCH)) throw refusal;
    log.warn("the ledger refused the step's failure report; the refusal is on the record", {
      type,
      stepIndex,
      refusal: failureMessage(refusal),
    });
  }
}
