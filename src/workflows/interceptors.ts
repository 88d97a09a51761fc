/**
 * Carries the operation's trace from the workflow to every activity it schedules, in Temporal
 * headers, the way OpenTelemetry's interceptors do: each activity call gets a span id of its own
 * under the operation's trace, so each ledger record says which call wrote it.
 *
 * Load it as a workflow interceptor module (`writWorkflowInterceptorsPath()`; `writPlugin` and
 * `writBundleOptions()` do it for you). Without it, records carry the caller's traceparent as is.
 */
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import type {
  ActivityInput, LocalActivityInput, Next, WorkflowExecuteInput, WorkflowInboundCallsInterceptor, WorkflowInterceptorsFactory,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { uuid4, workflowInfo } from '@temporalio/workflow';
import { OPENTELEMETRY_HEADER, TRACEPARENT_HEADER, childTraceparent, isTraceparent, traceparentFromHeaderValues } from '../model/trace-context.js';

// Keyed by run: a worker may evaluate this module once for many workflows, so module state must
// never be shared between them. Entries go when the run finishes or leaves the worker's cache.
const traceOfRun = new Map<string, string>();

function decode(payload: Payload | undefined): unknown {
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    return undefined;
  }
}

/** The traceparent the start request carried in its headers, if any. */
export function startHeaderTraceparent(headers: Record<string, Payload>): string | undefined {
  return traceparentFromHeaderValues({ traceparent: decode(headers[TRACEPARENT_HEADER]), openTelemetry: decode(headers[OPENTELEMETRY_HEADER]) });
}

/**
 * The trace this run belongs to: the request's own traceparent when it has one (the caller's
 * explicit choice), else the start header's. Decided once, before the workflow function runs.
 */
function traceFor(input: WorkflowExecuteInput): string | undefined {
  const request = input.args[0] as { traceparent?: unknown } | undefined;
  if (request && typeof request === 'object' && isTraceparent(request.traceparent)) return request.traceparent;
  return startHeaderTraceparent(input.headers);
}

function newSpanId(): string {
  // uuid4() is replay-safe inside a workflow; its first 16 hex digits are never all zero in practice,
  // and childTraceparent refuses them if they were.
  return uuid4().replaceAll('-', '').slice(0, 16);
}

function withTraceHeader<T extends ActivityInput | LocalActivityInput>(input: T): T {
  const trace = traceOfRun.get(workflowInfo().runId);
  if (!trace) return input;
  return { ...input, headers: { ...input.headers, [TRACEPARENT_HEADER]: defaultPayloadConverter.toPayload(childTraceparent(trace, newSpanId())) } };
}

class TraceInbound implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const trace = traceFor(input);
    const runId = workflowInfo().runId;
    if (!trace) return next(input);
    traceOfRun.set(runId, trace);
    const request = input.args[0];
    // A request started without a traceparent (a plain Temporal client with OpenTelemetry, say)
    // takes the header's, so correlation works the same whichever way the trace arrived.
    const args = request && typeof request === 'object' && !isTraceparent((request as { traceparent?: unknown }).traceparent)
      ? [{ ...request, traceparent: trace }, ...input.args.slice(1)]
      : input.args;
    try {
      return await next({ ...input, args });
    } finally {
      traceOfRun.delete(runId);
    }
  }
}

class TraceOutbound implements WorkflowOutboundCallsInterceptor {
  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    return next(withTraceHeader(input));
  }

  scheduleLocalActivity(input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>) {
    return next(withTraceHeader(input));
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new TraceInbound()],
  outbound: [new TraceOutbound()],
  internals: [{
    dispose(input, next) {
      try {
        traceOfRun.delete(workflowInfo().runId);
      } finally {
        next(input);
      }
    },
  }],
});
