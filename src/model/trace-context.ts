/**
 * W3C Trace Context as Writ carries it in Temporal headers. Pure and deterministic, so workflow
 * code may import it.
 */
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';

/** The header Writ's own interceptors read and write: the W3C name, carrying the W3C value. */
export const TRACEPARENT_HEADER = 'traceparent';

/**
 * The header `@temporalio/interceptors-opentelemetry` writes: a JSON map of the propagator's
 * fields. Read so that a caller already tracing with OpenTelemetry needs nothing else from us.
 */
export const OPENTELEMETRY_HEADER = '_tracer-data';

/** Version 00 with a non-zero trace-id and parent-id; groups: trace-id, parent-id, flags. */
export const TRACEPARENT = /^00-(?!0{32})([0-9a-f]{32})-(?!0{16})([0-9a-f]{16})-([0-9a-f]{2})$/;

export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT.test(value);
}

/** The trace-id of a traceparent: the operation's correlation id on every record. */
export function traceIdOf(traceparent: string): string {
  return traceparent.split('-')[1]!;
}

/**
 * The traceparent a callee receives: same trace and flags, the caller-side span that made the
 * call as its parent-id. `spanId` must be 16 hex digits and not all zero.
 */
export function childTraceparent(parent: string, spanId: string): string {
  const match = TRACEPARENT.exec(parent);
  if (!match) throw new TypeError(`not a W3C traceparent: ${JSON.stringify(parent)}`);
  if (!/^(?!0{16})[0-9a-f]{16}$/.test(spanId))
    throw new TypeError(`span id must be 16 hex digits, not all zero: ${JSON.stringify(spanId)}`);
  return `00-${match[1]}-${spanId}-${match[3]}`;
}

function decode(payload: Payload | undefined): unknown {
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    return undefined;
  }
}

/**
 * The traceparent in Temporal headers: Writ's own, else OpenTelemetry's carrier; undefined when
 * neither is well-formed.
 */
export function traceparentFromHeaders(headers: Record<string, Payload>): string | undefined {
  const own = decode(headers[TRACEPARENT_HEADER]);
  if (isTraceparent(own)) return own;
  const carrier = decode(headers[OPENTELEMETRY_HEADER]);
  if (carrier && typeof carrier === 'object' && isTraceparent((carrier as Record<string, unknown>).traceparent)) {
    return (carrier as Record<string, string>).traceparent;
  }
  return undefined;
}

export function traceparentHeader(traceparent: string): Record<string, Payload> {
  return { [TRACEPARENT_HEADER]: defaultPayloadConverter.toPayload(traceparent) };
}

/**
 * The OpenTelemetry interceptors' carrier holding `traceparent`, so the SDK's workflow span joins
 * the operation's trace (kept as is when it already carries that traceparent, with its tracestate).
 */
export function withOpenTelemetryParent(
  headers: Record<string, Payload>,
  traceparent: string,
): Record<string, Payload> {
  const carrier = decode(headers[OPENTELEMETRY_HEADER]);
  if (carrier && typeof carrier === 'object' && (carrier as Record<string, unknown>).traceparent === traceparent)
    return headers;
  return { ...headers, [OPENTELEMETRY_HEADER]: defaultPayloadConverter.toPayload({ traceparent }) };
}

/** A new trace from 48 random hex digits (the caller's randomness: `uuid4()` in a workflow). */
export function newTraceparentFromHex(hex: string): string {
  if (!/^[0-9a-f]{48,}$/.test(hex)) throw new TypeError('a new traceparent needs at least 48 random hex digits');
  return `00-${hex.slice(0, 32)}-${hex.slice(32, 48)}-01`;
}

/**
 * The one rule for a start that carries no trace: it gets a new one, so its records correlate like
 * any other operation's. `randomHex` is asked only then (the workflow's `uuid4()`, so replay draws
 * the same numbers; `randomBytes` elsewhere) and must give at least 48 hex digits.
 */
export function traceparentOrNew<T>(existing: T | undefined, randomHex: () => string): T | string {
  return existing !== undefined ? existing : newTraceparentFromHex(randomHex());
}
