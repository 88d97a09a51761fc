import { log } from '@temporalio/workflow';
import type { EventDraft } from '../../activities/ledger.js';
import type { EventType } from '../../model/events.js';
import { failureMessage, isKeyConflict } from './failures.js';
import type { OperationRun } from './operation.js';

/** The version marker of going on past a record the ledger refused (Temporal `patched`). */
export const GO_ON_PAST_REFUSED_RECORD_PATCH = 'writ-go-on-past-refused-record';

/**
 * Records what happened once a write may have been made: a step's failure, its undoing, the call
 * for a person, the resolution, and every operation's close (nothing is left to stop by then). A
 * record's key may already hold another record: the
 * activity's own report of the same failure, written before the activity was lost to the workflow
 * (its worker killed, the retries timing out), or one an insider planted there to stop the
 * operation in its tracks. The ledger has then recorded this one, refused, as a conflict, so what
 * the workflow meant to say is on the record. Failing the workflow there would leave a write in
 * place, not undone, with no one alerted and nothing closed; so it goes on. Records that allow a
 * write (the plan, the approvals) are not recorded through this: their refusal stops the write.
 */
export async function recordOrGoOn(run: OperationRun, drafts: EventDraft[]): Promise<void> {
  try {
    await run.recordAll(drafts);
  } catch (refusal) {
    if (!isKeyConflict(refusal) || !run.patches.has(GO_ON_PAST_REFUSED_RECORD_PATCH)) throw refusal;
    log.warn('the ledger refused a record and holds the refusal; the operation goes on', {
      types: drafts.map((draft) => draft.type),
      refusal: failureMessage(refusal),
    });
  }
}

/** The workflow's own report that a step failed, when the step's activity could not say so. */
export function reportStepFailure(
  run: OperationRun,
  type: EventType,
  to: Parameters<OperationRun['event']>[1],
  stepIndex: number,
  payload: Record<string, unknown>,
): Promise<void> {
  return recordOrGoOn(run, [run.event(type, to, { stepIndex, payload })]);
}
