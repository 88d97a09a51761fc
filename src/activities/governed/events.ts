import { Context } from '@temporalio/activity';
import type { EventDraft } from '../ledger.js';
import { traceparentForRecord } from '../trace-context.js';
import type { RecordDraft } from '../../ledger/record.js';
import { workflowEventKey } from '../../ledger/record.js';
import type { EnvelopeRef } from '../../model/envelope.js';
import type { State } from '../../model/lifecycle.js';

export function operationEvent(envelope: EnvelopeRef, type: string, state: State | null, options: { stepIndex?: number; round?: number; payload?: Record<string, unknown> } = {}): EventDraft {
  const step = options.stepIndex ?? null;
  return {
    type,
    operationId: envelope.operationId,
    correlationId: envelope.correlationId,
    traceparent: envelope.traceparent,
    actor: envelope.actor,
    stepIndex: step,
    state,
    // Stable across activity retries and worker crashes: one record per event, never two.
    idempotencyKey: workflowEventKey(envelope.operationId, type, step, options.round ?? 0),
    payload: (options.payload ?? {}) as RecordDraft['payload'],
  };
}

/** Adds where the record was written from: workflow, run and activity attempt. */
export function stamped(draft: EventDraft): RecordDraft {
  const info = Context.current().info;
  const execution = info.workflowExecution;
  return {
    ...draft,
    traceparent: traceparentForRecord(draft.traceparent),
    workflow: execution ? { workflowId: execution.workflowId, runId: execution.runId, activityAttempt: info.attempt } : null,
  };
}
