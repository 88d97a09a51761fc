import { Context } from '@temporalio/activity';
import { WritError } from '../model/errors.js';
import type { AppendResult, LedgerAppender } from '../ledger/appender.js';
import type { RecordDraft } from '../ledger/record.js';
import { WORKFLOW_KEY_PREFIX } from '../ledger/record.js';
import { toActivityFailure } from './failures.js';
import { traceparentForRecord } from './trace-context.js';

/** What a workflow learns about a record it appended: the append's result as plain JSON, so it survives history. */
export type RecordedEvent = Omit<AppendResult, 'recordedAt' | 'earlier'> & { recordedAt: string };

/** The draft a workflow sends: the activity adds where it came from. */
export type EventDraft = Omit<RecordDraft, 'workflow'>;

export function createLedgerActivities(appender: LedgerAppender) {
  return {
    /**
     * Appends one record stamped with the workflow, run and attempt that wrote it. The
     * idempotency key defaults to the activity's own identity, which Temporal keeps across
     * retries, so a retried activity finds its earlier record instead of writing a second one.
     */
    async recordEvent(draft: EventDraft): Promise<RecordedEvent> {
      const info = Context.current().info;
      const execution = info.workflowExecution;
      if (!execution) {
        const message = 'recordEvent records on behalf of a workflow and cannot run standalone';
        throw toActivityFailure(new WritError('USAGE', message));
      }
      const workflow = { workflowId: execution.workflowId, runId: execution.runId, activityAttempt: info.attempt };
      try {
        const result = await appender.append({
          ...draft,
          traceparent: traceparentForRecord(draft.traceparent),
          idempotencyKey:
            draft.idempotencyKey ?? `${WORKFLOW_KEY_PREFIX}${workflow.workflowId}/${workflow.runId}/${info.activityId}`,
          workflow,
        });
        return { ...result, recordedAt: result.recordedAt.toISOString() };
      } catch (error) {
        // Bad input will never succeed on retry; a lost connection may. Workflows branch on `type`.
        throw toActivityFailure(error, { keepCause: true });
      }
    },
  };
}

export type LedgerActivities = ReturnType<typeof createLedgerActivities>;
