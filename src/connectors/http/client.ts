import { setTimeout as sleep } from 'node:timers/promises';
import type { Json } from '../../model/json.js';
import { WritError } from '../../model/errors.js';

export interface HttpClientOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  /** Extra attempts after the first, for requests that are safe to repeat. */
  retries: number;
  fetch: typeof fetch;
  /** The pause before the first retry; each later one doubles it. */
  backoffMs?: number;
}

export interface HttpRequest {
  method: 'GET' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  body?: Json;
  contentType?: string;
  /** Makes a write safe to repeat; a write without one is sent exactly once. */
  idempotencyKey?: string;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  etag: string | null;
  location: string | null;
  /** The body parsed as JSON; undefined when it is empty or not JSON. */
  json: Json | undefined;
  text: string;
  attempts: number;
}

export type HttpSend = (request: HttpRequest) => Promise<HttpResponse>;

/** The API could not be reached or kept failing: worth trying again later, unlike a refusal. */
export class HttpUnavailableError extends WritError {
  override readonly name = 'HttpUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('HTTP_UNAVAILABLE', message, undefined, options);
  }
}

// Gateways and overloaded servers answer these before (or without) the origin deciding anything;
// other 5xx may mean the request was processed, and 4xx will fail the same way every time.
const TRANSIENT_STATUSES = new Set([502, 503, 504]);

const parseJson = (text: string, contentType: string | null): Json | undefined => {
  if (text.trim() === '' || (contentType && !/json/i.test(contentType))) return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
};

const describeFailure = (error: unknown, timeoutMs: number): string => {
  const failure = error as Error & { cause?: { code?: string; message?: string } };
  if (failure.name === 'TimeoutError' || failure.name === 'AbortError') return `no response within ${timeoutMs} ms`;
  return `could not reach the API (${failure.cause?.code ?? failure.cause?.message ?? failure.message})`;
};

/**
 * Sends one request, repeating it after network errors, timeouts and 502/503/504 only when that is
 * safe: a GET, or a write carrying an Idempotency-Key, which the API uses to apply it at most once
 * however many copies arrive (the first may have been applied before its response was lost).
 */
export function httpClient(options: HttpClientOptions): HttpSend {
  const backoffMs = options.backoffMs ?? 100;
  return async (request) => {
    const repeatable = request.method === 'GET' || request.idempotencyKey !== undefined;
    const allowed = repeatable ? Math.max(0, options.retries) + 1 : 1;
    const headers = new Headers({ accept: 'application/json' });
    for (const [name, value] of Object.entries({ ...options.headers, ...request.headers })) headers.set(name, value);
    if (request.idempotencyKey !== undefined) headers.set('idempotency-key', request.idempotencyKey);
    if (request.body !== undefined) headers.set('content-type', request.contentType ?? 'application/json');
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);

    for (let attempt = 1; ; attempt++) {
      let failed = false;
      let failure: unknown;
      try {
        // A redirected write would be sent somewhere the operator never named: it is reported instead.
        const response = await options.fetch(request.url, {
          method: request.method,
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        const text = await response.text();
        if (!TRANSIENT_STATUSES.has(response.status) || attempt >= allowed) {
          return {
            status: response.status,
            statusText: response.statusText,
            text,
            attempts: attempt,
            etag: response.headers.get('etag'),
            location: response.headers.get('location'),
            json: parseJson(text, response.headers.get('content-type')),
          };
        }
      } catch (error) {
        failed = true;
        failure = error;
      }
      if (failed && attempt >= allowed) {
        const unsafe = repeatable ? '' : '; a write without an Idempotency-Key is never repeated';
        throw new HttpUnavailableError(
          `${request.method} ${request.url.href}: ${describeFailure(failure, options.timeoutMs)} (${attempt} attempt${attempt > 1 ? 's' : ''}${unsafe})`,
          { cause: failure },
        );
      }
      await sleep(backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
    }
  };
}
