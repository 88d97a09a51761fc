import { createRequire } from 'node:module';
import { trace } from '@opentelemetry/api';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks, WorkerOptions } from '@temporalio/worker';
import type { WritTracing } from './tracing.js';

/**
 * The SDK's workflow interceptors (a span for the workflow and one for each activity it
 * schedules). Writ bundles them always, so a bundle built once works with tracing on or off;
 * without tracing their spans go to a sink that drops them.
 */
export function openTelemetryWorkflowInterceptorsPath(): string {
  return createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');
}

/** A span for each activity execution, child of the workflow's span that scheduled it. */
export function openTelemetryActivityInterceptor(tracing: WritTracing | undefined): ActivityInterceptorsFactory {
  // Without tracing the API's tracer records nothing: the interceptor only passes the context on.
  const tracer = tracing?.tracer ?? trace.getTracer('writ-worker');
  return (ctx) => ({
    inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
    outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
  });
}

type ExporterSinks = InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }>;

/** Where workflow spans leave the isolate: the span processor, or nowhere when tracing is off. */
function exporterSinks(tracing: WritTracing | undefined): ExporterSinks {
  if (tracing) return { exporter: makeWorkflowExporter(tracing.processor, tracing.resource) };
  return { exporter: { export: { fn: () => undefined } } };
}

/** Worker options with the span sink added; a sink the user registered under that name is kept. */
export function withSpanSink<T extends Pick<WorkerOptions, 'sinks'>>(options: T, tracing: WritTracing | undefined): T {
  if (options.sinks?.exporter) return options;
  return { ...options, sinks: { ...options.sinks, ...exporterSinks(tracing) } };
}
