import { setTimeout as sleep } from 'node:timers/promises';
import type { Json, JsonObject } from '../../model/json.js';
import { ConnectorInputError } from '../types.js';
import { endpointLabel } from './redact.js';
import { SIGNATURE_HEADER, signBody } from './signature.js';
import { WritError, hasCode } from '../../model/errors.js';

export interface DeliveryOptions {
  url: URL;
  /** Takes the URL and its tokens out of messages and answers (the URL is a credential). */
  scrub: { text(text: string): string; json(value: Json): Json };
  secret?: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Extra attempts after network errors, time-outs and 5xx. */
  retries: number;
  backoffMs: number;
  fetch: typeof fetch;
}

export interface Delivery {
  status: number;
  /** The answer parsed as JSON; null when it is empty or not JSON. */
  answer: Json;
  attempts: number;
}

/** The receiver could not be reached or kept failing: worth trying again later, with the same key. */
export class WebhookUnavailableError extends WritError {
  override readonly name = 'WebhookUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('WEBHOOK_UNAVAILABLE', message, undefined, options);
  }
}

const parse = (text: string): Json => {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return null;
  }
};

const excerpt = (text: string) => {
  const flat = text.trim().replace(/\s+/g, ' ');
  return flat ? `: ${flat.length > 200 ? `${flat.slice(0, 200)}…` : flat}` : '';
};

const describeFailure = (error: unknown, timeoutMs: number): string => {
  const failure = error as Error & { cause?: { code?: string; message?: string } };
  if (failure.name === 'TimeoutError' || failure.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  return `could not reach the receiver (${failure.cause?.code ?? failure.cause?.message ?? failure.message})`;
};

/**
 * A final non-2xx answer as the error the workflow needs: a refusal, or something to retry later.
 * Its message is recorded, so it names the endpoint by its label and the receiver's words are
 * scrubbed (a receiver may echo the URL it was called at).
 */
function refusal(endpoint: string, status: number, text: string, attempts: number): Error {
  const what = `POST ${endpoint} got ${status}`;
  if (status >= 300 && status < 400)
    return new ConnectorInputError(`${what}, a redirect; point the webhook url at where the receiver really is`);
  // The receiver asks to be tried later: not here (the caller's retry policy decides when).
  if (status === 408 || status === 429) return new WebhookUnavailableError(`${what}${excerpt(text)}`);
  if (status < 500) return new ConnectorInputError(`${what}, a refusal a retry cannot fix${excerpt(text)}`);
  return new WebhookUnavailableError(`${what} after ${attempts} attempt${attempts > 1 ? 's' : ''}${excerpt(text)}`);
}

/**
 * POSTs one JSON message. Network errors, time-outs and 5xx are retried: the Idempotency-Key lets
 * the receiver record the message once however many copies arrive (the first may have been
 * recorded before its answer was lost). A 4xx is the receiver's decision and is not retried.
 */
export function deliverer(options: DeliveryOptions) {
  const endpoint = endpointLabel(options.url);
  return async (message: JsonObject, idempotencyKey: string): Promise<Delivery> => {
    const body = JSON.stringify(message);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'idempotency-key': idempotencyKey,
    };
    if (options.secret !== undefined) headers[SIGNATURE_HEADER] = signBody(options.secret, body);
    const allowed = Math.max(0, options.retries) + 1;

    for (let attempt = 1; ; attempt++) {
      try {
        // A redirected message would go somewhere the operator never named: it is reported instead.
        const response = await options.fetch(options.url, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        const text = await response.text();
        if (response.status >= 200 && response.status < 300)
          return { status: response.status, answer: options.scrub.json(parse(text)), attempts: attempt };
        if (response.status < 500 || attempt >= allowed)
          throw refusal(endpoint, response.status, options.scrub.text(text), attempt);
      } catch (error) {
        if (hasCode(error, 'CONNECTOR_INPUT') || hasCode(error, 'WEBHOOK_UNAVAILABLE')) throw error;
        if (attempt >= allowed) {
          // No `cause`: the fetch error travels into workflow history, and may carry the URL.
          throw new WebhookUnavailableError(
            `POST ${endpoint}: ${options.scrub.text(describeFailure(error, options.timeoutMs))} (${attempt} attempt${attempt > 1 ? 's' : ''})`,
          );
        }
      }
      await sleep(options.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
    }
  };
}

export type Deliver = ReturnType<typeof deliverer>;
