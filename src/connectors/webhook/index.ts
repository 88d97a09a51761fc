import type { RollbackContract } from '../../model/contract.js';
import type { ActionCall, Connector, ConnectorAction } from '../types.js';
import { rollback } from './compensate.js';
import type { Deliver } from './deliver.js';
import { deliverer } from './deliver.js';
import type { NotifyParams } from './message.js';
import { channelProblems, params, quote, unsent } from './message.js';
import { endpointLabel, scrubber } from './redact.js';
import { execute } from './send.js';
import { verify } from './verify.js';

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

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRIES = 3;
const BACKOFF_MS = 100;
const DEFAULT_WINDOW_MS = 24 * 3600 * 1000;
/** A message has no state to read: every snapshot is the same, and never makes an approval stale. */
const NO_VERSION = 'n/a';

// Neither error quotes the URL: it is a credential, and start-up errors end up in logs.
function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError('webhook connector: the url is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`webhook connector: the url must be http or https, not ${url.protocol}`);
  return url;
}

const contractFor = (windowMs: number): RollbackContract => ({
  supportsDryRun: true,
  sideEffects: 'none-on-dry-run',
  canRollback: true,
  method: 'compensate',
  windowMs,
  limitations:
    'a message cannot be unsent: rollback sends a correction that references the original; ' +
    'the receiver must honour Idempotency-Key (a retried delivery is recorded once) and answer 2xx with JSON echoing the message id ({ "id": ... }) for a delivery to verify',
});

function notifyAction(endpoint: string, deliver: Deliver, contract: RollbackContract): ConnectorAction<NotifyParams> {
  return {
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
    execute: (call, context) => execute(deliver, call, context),
    verify: async (_call, { execution }) => verify(execution),
    rollback: (call, context) => rollback(deliver, call, context),
  };
}

export function webhookConnector(options: WebhookConnectorOptions): Connector {
  const url = parseUrl(options.url);
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
  return {
    name: options.name ?? 'webhook',
    description: `notifications POSTed as JSON to ${endpoint}; a rollback sends a correction`,
    actions: { notify: notifyAction(endpoint, deliver, contractFor(options.rollbackWindowMs ?? DEFAULT_WINDOW_MS)) },
  };
}
