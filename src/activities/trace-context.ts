import { AsyncLocalStorage } from 'node:async_hooks';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { traceIdOf } from '../model/request.js';
import { traceparentFromHeaders } from '../model/trace-context.js';

const current = new AsyncLocalStorage<string>();

/**
 * Reads the traceparent the workflow put in this activity call's headers (Writ's, or
 * OpenTelemetry's `_tracer-data`) and keeps it for the activity's duration.
 */
export const traceContextActivityInterceptor: ActivityInterceptorsFactory = () => ({
  inbound: {
    execute(input, next) {
      const traceparent = traceparentFromHeaders(input.headers);
      return traceparent ? current.run(traceparent, () => next(input)) : next(input);
    },
  },
});

/**
 * The traceparent a record written now should carry: this activity call's own, when it belongs
 * to the same trace as the record; the record's as drafted otherwise (an activity serving another
 * trace must not relabel the record).
 */
export function traceparentForRecord(drafted: string | null | undefined): string | null {
  const call = current.getStore();
  if (!drafted) return drafted ?? null;
  return call && traceIdOf(call) === traceIdOf(drafted) ? call : drafted;
}
