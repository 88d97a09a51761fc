/**
 * W3C Trace Context as Writ carries it in Temporal headers. Pure and deterministic, so workflow
 * code may import it.
 */

/** The header Writ's own interceptors read and write: the W3C name, carrying the W3C value. */
export const TRACEPARENT_HEADER = 'traceparent';

/**
 * The header `@temporalio/interceptors-opentelemetry` writes: a JSON map of the propagator's
 * fields. Read so that a caller already tracing with OpenTelemetry needs nothing else from us.
 */
export const OPENTELEMETRY_HEADER = '_tracer-data';

const TRACEPARENT = /^00-(?!0{32})([0-9a-f]{32})-(?!0{16})([0-9a-f]{16})-([0-9a-f]{2})$/;

export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT.test(value);
}

/**
 * The traceparent a callee receives: same trace and flags, the caller-side span that made the
 * call as its parent-id. `spanId` must be 16 hex digits and not all zero.
 */
export function childTraceparent(parent: string, spanId: string): string {
  const match = TRACEPARENT.exec(parent);
  if (!match) throw new TypeError(`not a W3C traceparent: ${JSON.stringify(parent)}`);
  if (!/^(?!0{16})[0-9a-f]{16}$/.test(spanId)) throw new TypeError(`span id must be 16 hex digits, not all zero: ${JSON.stringify(spanId)}`);
  return `00-${match[1]}-${spanId}-${match[3]}`;
}

/** A traceparent from whichever of the two headers is present and well-formed. */
export function traceparentFromHeaderValues(values: { traceparent?: unknown; openTelemetry?: unknown }): string | undefined {
  if (isTraceparent(values.traceparent)) return values.traceparent;
  const carrier = values.openTelemetry;
  if (carrier && typeof carrier === 'object' && isTraceparent((carrier as Record<string, unknown>).traceparent)) {
    return (carrier as Record<string, string>).traceparent;
  }
  return undefined;
}

export function traceIdOfTraceparent(traceparent: string): string {
  return traceparent.split('-')[1] ?? '';
}
