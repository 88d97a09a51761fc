/**
 * Carries the operation's trace from the workflow to every activity it schedules, in Temporal
 * headers, the way OpenTelemetry's interceptors do: each activity call gets a span id of its own
 * under the operation's trace, so each ledger record says which call wrote it. And replays the
 * runs recorded with their search-attribute upserts merged per activation the way they were
 * recorded (search-attribute-upserts.ts); new runs are not merged.
 *
 * Load it as a workflow interceptor module (`writWorkflowInterceptorsPath()`; `writPlugin` and
 * `writBundleOptions()` do it for you). Without it, records carry the request's traceparent as is.
 * A worker replaying a run recorded merging must load it: that run's history holds the merged
 * upserts.
 */
import type {
  ActivityInput,
  LocalActivityInput,
  Next,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptorsFactory,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { uuid4, workflowInfo } from '@temporalio/workflow';
import {
  childTraceparent,
  isTraceparent,
  traceparentFromHeaders,
  traceparentHeader,
  traceparentOrNew,
  withOpenTelemetryParent,
} from '../model/trace-context.js';
import { concludeWithOneUpsert, decideMerging, forgetRun } from './search-attribute-upserts.js';

// Keyed by run: a worker may evaluate this module once for many workflows, so module state must
// never be shared between them. Entries go when the run finishes or leaves the worker's cache.
const traceOfRun = new Map<string, string>();

const randomHex = () => uuid4().replaceAll('-', '');

function withTraceHeader<T extends ActivityInput | LocalActivityInput>(input: T): T {
  const trace = traceOfRun.get(workflowInfo().runId);
  if (!trace) return input;
  // uuid4() is replay-safe inside a workflow; childTraceparent refuses an all-zero span id.
  return {
    ...input,
    headers: { ...input.headers, ...traceparentHeader(childTraceparent(trace, randomHex().slice(0, 16))) },
  };
}

class TraceInbound implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const request = input.args[0];
    if (!request || typeof request !== 'object') return next(input);
    const own = (request as { traceparent?: unknown }).traceparent;
    // A malformed traceparent is the request's to answer for: validation refuses it by name.
    if (own !== undefined && !isTraceparent(own)) return next(input);
    // The request's own traceparent is the caller's explicit choice; else the start header's (a
    // plain Temporal client with OpenTelemetry, say); else a new trace, so every start has one.
    const trace = traceparentOrNew(own ?? traceparentFromHeaders(input.headers), () => randomHex() + randomHex());
    const runId = workflowInfo().runId;
    traceOfRun.set(runId, trace);
    const args = own === undefined ? [{ ...request, traceparent: trace }, ...input.args.slice(1)] : input.args;
    try {
      // The SDK's OpenTelemetry interceptor, inside this one, reads its parent from the headers.
      return await next({ ...input, args, headers: withOpenTelemetryParent(input.headers, trace) });
    } finally {
      traceOfRun.delete(runId);
    }
  }
}

class UpsertMergingInbound implements WorkflowInboundCallsInterceptor {
  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    decideMerging();
    return next(input);
  }
}

class TraceOutbound implements WorkflowOutboundCallsInterceptor {
  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    return next(withTraceHeader(input));
  }

  scheduleLocalActivity(
    input: LocalActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
  ) {
    return next(withTraceHeader(input));
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new UpsertMergingInbound(), new TraceInbound()],
  outbound: [new TraceOutbound()],
  internals: [
    {
      concludeActivation(input, next) {
        return next({ ...input, commands: concludeWithOneUpsert(input.commands) });
      },
      dispose(input, next) {
        try {
          traceOfRun.delete(workflowInfo().runId);
          forgetRun(workflowInfo().runId);
        } finally {
          next(input);
        }
      },
    },
  ],
});
