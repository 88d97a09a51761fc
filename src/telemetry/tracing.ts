import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from './config.js';
import { AsyncLocalContextManager } from './context-manager.js';

/** What the worker needs to export spans: a tracer for activities, a processor for workflow spans. */
export interface WritTracing {
  tracer: Tracer;
  processor: SpanProcessor;
  resource: Resource;
  /** Sends what is buffered and stops; the worker calls it when it stops. */
  shutdown(): Promise<void>;
}

/**
 * Spans over OTLP/HTTP (JSON) to the configured collector. The provider is registered globally,
 * with a context manager, because the SDK's activity interceptor extracts the parent from headers
 * with the global W3C propagator and makes it active with the global context manager; without
 * either, every activity span would start a trace of its own.
 */
export function startTracing(config: TracingConfig, options: { exportDelayMs?: number } = {}): WritTracing {
  const resource = new Resource({ 'service.name': config.serviceName });
  const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: config.tracesUrl }), {
    ...(options.exportDelayMs !== undefined ? { scheduledDelayMillis: options.exportDelayMs } : {}),
  });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  provider.register({ contextManager: new AsyncLocalContextManager() });
  return {
    tracer: provider.getTracer('writ-worker'),
    processor,
    resource,
    shutdown: () => provider.shutdown(),
  };
}
