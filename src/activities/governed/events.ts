import { Context } from '@temporalio/activity';
import type { EventDraft } from '../ledger.js';
import { traceparentForRecord } from '../trace-context.js';
import type { RecordDraft } from '../../ledger/record.js';
import type { EnvelopeRef } from '../../model/envelope.js';
import type { State } from '../../model/lifecycle.js';
import type { EventOptions, EventType } from '../../model/events.js';
import { operationEventDraft } from '../../model/events.js';

export function operationEvent(
  envelope: EnvelopeRef,
  type: EventType,
  state: State | null,
  options: EventOptions = {},
): EventDraft {
  const draft = operationEventDraft(envelope, type, state, options);
  return { ...draft, payload: draft.payload as RecordDraft['payload'] };
}

/** Adds where the record was written from: workflow, run and activity attempt. */
export function stamped(draft: EventDraft): RecordDraft {
  const info = Context.current().info;
  const execution = info.workflowExecution;
  return {
    ...draft,
    traceparent: traceparentForRecord(draft.traceparent),
    workflow: execution
      ? { workflowId: execution.workflowId, runId: execution.runId, activityAttempt: info.attempt }
      : null,
  };
}
