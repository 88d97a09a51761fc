import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RollbackContract } from '../../model/contract.js';
import type { Json, JsonObject } from '../../model/json.js';
import type { ActionCall, Connector, ConnectorAction } from '../types.js';
import { ConnectorInputError } from '../types.js';
import { deliverer } from './deliver.js';
import { endpointLabel, scrubber } from './redact.js';

export interface WebhookConnectorOptions {
  /** Where messages are POSTed (http or https). */
  url: string;
  name?: string;
  /** Signs every body (HMAC-SHA256, header X-Writ-Signature); never recorded. */
  secret?: string;
  /** Per attempt. */
  timeoutMs?: number;
  /** Extra attempts after network errors, time-outs and 5xx. */
  retries?: number;
  rollbackWindowMs?: number;
  fetch?: typeof fetch;
}

interface NotifyParams {
  message: string;
  data?: Record<string, Json>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRIES = 3;
const BACKOFF_MS = 100;
const DEFAULT_WINDOW_MS = 24 * 3600 * 1000;
/** A message has no state to read: every snapshot is the same, and never makes an approval stale. */
const NO_VERSION = 'n/a';

const CHANNEL = /^[^\s\p{Cc}]{1,200}$/u;

const params: z.ZodType<NotifyParams> = z.strictObject({
  message: z.string().min(1),
  data: z.record(z.string(), z.json()).optional(),
});

/** Derived from the key, so every retry sends the same id and a rollback can name the original. */
const messageId = (idempotencyKey: string) =>
  `msg_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}`;

const quote = (text: string) => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);

const channelProblems = (channel: string) =>
  CHANNEL.test(channel)
    ? []
    : [`channel ${JSON.stringify(channel)} must be 1 to 200 characters without spaces, e.g. #billing`];

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function webhookConnector(options: WebhookConnectorOptions): Connector {
  // Neither error quotes the URL: it is a credential, and start-up errors end up in logs.
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new TypeError('webhook connector: the url is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`webhook connector: the url must be http or https, not ${url.protocol}`);
  const endpoint = endpointLabel(url);
  const scrub = scrubber(url, options.secret === undefined ? [] : [options.secret]);
  const deliver = deliverer({
    url,
    scrub,
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retries: options.retries ?? DEFAULT_RETRIES,
    backoffMs: BACKOFF_MS,
    fetch: options.fetch ?? globalThis.fetch,
  });

  const contract: RollbackContract = {
    supportsDryRun: true,
    sideEffects: 'none-on-dry-run',
    canRollback: true,
    method: 'compensate',
    windowMs: options.rollbackWindowMs ?? DEFAULT_WINDOW_MS,
    limitations:
      'a message cannot be unsent: rollback sends a correction that references the original; ' +
      'the receiver must honour Idempotency-Key (a retried delivery is recorded once) and answer 2xx with JSON echoing the message id ({ "id": ... }) for a delivery to verify',
  };

  const unsent = (channel: string, p: NotifyParams): JsonObject => ({
    channel,
    message: p.message,
    data: p.data ?? {},
    kind: 'notification',
  });

  const notify: ConnectorAction<NotifyParams> = {
    params,
    contract,
    // The endpoint by its label: identities go into records, bundles, CSVs and the Web UI.
    identity: ({ target }: ActionCall<unknown>) => `webhook:${endpoint}/${target}`,
    effect: () => ({ effect: 'notify', action: 'notify' }),
    validate: async ({ target }) => channelProblems(target),
    snapshot: async () => ({ version: NO_VERSION, state: null }),
    preview: async ({ target, params: p }) => ({
      before: null,
      after: unsent(target, p),
      summary: `would notify ${target}: ${quote(p.message)}`,
    }),
    async execute({ target, params: p }, { idempotencyKey }) {
      const problems = channelProblems(target);
      if (problems.length) throw new ConnectorInputError(problems.join('; '));
      const id = messageId(idempotencyKey);
      const delivery = await deliver({ id, ...unsent(target, p) }, idempotencyKey);
      // The acknowledgement is what verify checks, and all it gets is `after`.
      return {
        after: { id, channel: target, status: delivery.status, acknowledgement: delivery.answer },
        detail: { attempts: delivery.attempts },
      };
    },
    async verify(_call, { execution }) {
      const after = isObject(execution.after) ? execution.after : {};
      const { id = null, status = null, acknowledgement = null } = after;
      const observed: Json = { status, acknowledgement };
      const expected: Json = { status: '2xx', id };
      if (typeof status !== 'number' || status < 200 || status >= 300)
        return { ok: false, observed, expected, reason: `the receiver did not accept the message (status ${status})` };
      const echoed = isObject(acknowledgement) ? acknowledgement.id : undefined;
      if (echoed !== id)
        return {
          ok: false,
          observed,
          expected,
          reason: `the receiver answered ${status} without echoing message id ${id} (it echoed ${JSON.stringify(echoed ?? null)})`,
        };
      return { ok: true, observed, expected };
    },
    async rollback({ target, params: p }, { idempotencyKey }) {
      const original = messageId(idempotencyKey);
      const key = `${idempotencyKey}/rollback`;
      const correction: JsonObject = {
        id: messageId(key),
        kind: 'correction',
        corrects: original,
        channel: target,
        message: `Correction: please disregard message ${original} (${quote(p.message)}); the operation that sent it was rolled back.`,
      };
      const delivery = await deliver(correction, key);
      return {
        restored: null,
        detail: {
          correction: correction.id!,
          corrects: original,
          status: delivery.status,
          attempts: delivery.attempts,
          acknowledgement: delivery.answer,
        },
      };
    },
  };

  return {
    name: options.name ?? 'webhook',
    description: `notifications POSTed as JSON to ${endpoint}; a rollback sends a correction`,
    actions: { notify },
  };
}
