import type { RollbackContract } from '../../model/contract.js';
import type { ActionCall, Connector, ConnectorAction } from '../types.js';
import type { ActionKind } from './actions.js';
import { create, patch, remove, replace } from './actions.js';
import { httpClient } from './client.js';
import { verifyRequested } from './compare.js';
import { rollback } from './compensate.js';
import { preview, snapshot, validate } from './read.js';
import type { ResourceApi } from './resource.js';
import { resourceApi } from './resource.js';
import { canonicalTarget, normalizeBaseUrl, resolveTarget } from './target.js';
import { execute } from './write.js';

export interface HttpConnectorOptions {
  /** Targets are paths relative to it, e.g. `accounts/42`. */
  baseUrl: string;
  name?: string;
  /** Sent with every request, e.g. Authorization; never recorded. */
  headers?: Record<string, string>;
  /** Per attempt. */
  timeoutMs?: number;
  /** Extra attempts after network errors, time-outs and 502/503/504. */
  retries?: number;
  rollbackWindowMs?: number;
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRIES = 2;
const DEFAULT_WINDOW_MS = 24 * 3600 * 1000;

const contractFor = (windowMs: number): RollbackContract => ({
  supportsDryRun: true,
  sideEffects: 'none-on-dry-run',
  canRollback: true,
  method: 'inverse',
  windowMs,
  limitations:
    'a rollback puts the whole previous representation back with PUT (or deletes what was created), overwriting changes others made after the write; ' +
    'server-generated members such as ids and timestamps are restored by value, not by history, and the API may refuse or rewrite them; ' +
    'effects the API set off (webhooks, emails, charges) are not undone; ' +
    'the API must honour Idempotency-Key (replaying the first answer to a repeated key before checking preconditions), strong ETags with If-Match and If-None-Match: *, and JSON merge patch for patch',
});

// Header values are credentials (Authorization, API keys): an API that echoes one in an error
// body must not get it into the ledger through the error message.
const secretsIn = (headers: Record<string, string>) =>
  Object.values(headers).flatMap((value) => [value, ...value.split(/\s+/).filter((part) => part.length >= 8)]);

/** One action: the connector's shared steps around what `kind` sends. */
function resourceAction<P>(
  base: URL,
  api: ResourceApi,
  contract: RollbackContract,
  kind: ActionKind<P>,
): ConnectorAction<P> {
  const identity = (call: ActionCall<unknown>) => `http:${resolveTarget(base, call.target).href}`;
  return {
    params: kind.params,
    contract,
    identity,
    resolve: async (call) => ({ target: canonicalTarget(base, call.target), identity: identity(call) }),
    effect: () => kind.effect,
    validate: ({ target }) => validate(api, kind, target),
    snapshot: ({ target }) => snapshot(api, target),
    preview: async (call, before) => preview(kind, call, before),
    execute: (call, context) => execute(api, kind, call, context),
    verify: async ({ target, params }) =>
      verifyRequested(target, (await api.read(target)).state, kind.requested(params)),
    rollback: (call, context) => rollback(api, call, context),
  };
}

export function httpConnector(options: HttpConnectorOptions): Connector {
  const base = normalizeBaseUrl(options.baseUrl);
  const send = httpClient({
    headers: options.headers ?? {},
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retries: options.retries ?? DEFAULT_RETRIES,
    fetch: options.fetch ?? globalThis.fetch,
  });
  const api = resourceApi(base, send, secretsIn(options.headers ?? {}));
  const contract = contractFor(options.rollbackWindowMs ?? DEFAULT_WINDOW_MS);
  const action = <P>(kind: ActionKind<P>) => resourceAction(base, api, contract, kind);
  return {
    name: options.name ?? 'http',
    description: `JSON resources of the REST API at ${base.href}, written with PUT, PATCH and DELETE under ETag preconditions`,
    actions: { create: action(create), replace: action(replace), patch: action(patch), delete: action(remove) },
  };
}
