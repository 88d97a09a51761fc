import type { WorkflowClientInterceptor } from '@temporalio/client';
import { isTraceparent, traceparentHeader } from '../model/trace-context.js';

/**
 * Puts the caller's current traceparent in the headers of every workflow start, so the trace
 * travels with the call itself and not only inside Writ's request: a `governedWrite` started by a
 * plain Temporal client, with no traceparent in its request, joins the caller's trace.
 * `current` is where your tracing keeps it, e.g. with OpenTelemetry:
 *
 *   traceContextClientInterceptor(() => {
 *     const carrier: Record<string, string> = {};
 *     propagation.inject(context.active(), carrier);
 *     return carrier.traceparent;
 *   })
 *
 * For a start, a traceparent in the request itself wins: it is what the caller asked for.
 */
export function traceContextClientInterceptor(current: () => string | undefined): WorkflowClientInterceptor {
  const withHeader = <T extends { headers: Record<string, unknown> }>(input: T, explicit?: unknown): T => {
    const traceparent = isTraceparent(explicit) ? explicit : current();
    if (!isTraceparent(traceparent)) return input;
    return { ...input, headers: { ...input.headers, ...traceparentHeader(traceparent) } };
  };
  const requestTrace = (args: readonly unknown[]) =>
    args[0] && typeof args[0] === 'object' ? (args[0] as { traceparent?: unknown }).traceparent : undefined;
  return {
    start: (input, next) => next(withHeader(input, requestTrace(input.options.args ?? []))),
    signalWithStart: (input, next) => next(withHeader(input, requestTrace(input.options.args ?? []))),
  };
}
