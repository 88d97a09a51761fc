import { z } from 'zod';
import type { Effect } from '../../model/policy.js';
import type { RollbackContract } from '../../model/contract.js';
import type { Json, JsonObject } from '../../model/json.js';
import type { ActionCall, Connector, ConnectorAction, Snapshot } from '../types.js';
import { ConnectorInputError } from '../types.js';
import { httpClient } from './client.js';
import type { Requested } from './compare.js';
import { same, verifyRequested } from './compare.js';
import { mergePatch } from './merge-patch.js';
import type { Representation, ResourceApi, Write } from './resource.js';
import { resourceApi } from './resource.js';
import { canonicalTarget, normalizeBaseUrl, resolveTarget } from './target.js';

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

const MERGE_PATCH = 'application/merge-patch+json';

const resourceBody = z.record(z.string(), z.json());
const mergeBody = resourceBody.refine((merge) => Object.keys(merge).length > 0, 'must change at least one member');

const ABSENT = 'absent';

/** Without ETags a write cannot tell whether someone changed the resource since it was read. */
const requireEtag = (target: string, current: Representation): string => {
  if (current.etag === null)
    throw new ConnectorInputError(
      `the API returned no ETag for ${target}; this connector needs ETag and If-Match to detect changes made by others`,
    );
  return current.etag;
};

// `If-Match: *` when the snapshot saw nothing: the write then fails with 412 unless the resource
// exists, instead of silently creating it.
const ifMatch = (before: Snapshot) => ({ 'if-match': before.state === null ? '*' : before.version });

const changedSinceRead = (target: string, before: Snapshot) =>
  before.state === null
    ? `${target} does not exist`
    : `${target} changed since it was read (it no longer has ETag ${before.version}); read it again and resubmit`;

/** What one action sends and what it means for the resource. */
interface ActionKind<P> {
  name: string;
  effect: { effect: Effect; action: string };
  params: z.ZodType<P>;
  /** Whether the resource must exist before the action. */
  existing: boolean;
  intended(params: P, before: Json): Json;
  /** What verification checks the resource holds afterwards. */
  requested(params: P): Requested;
  request(target: string, params: P, before: Snapshot): Omit<Write, 'idempotencyKey'>;
}

const changedMembers = (before: Json, after: Json): string => {
  if (
    before === null ||
    after === null ||
    typeof before !== 'object' ||
    typeof after !== 'object' ||
    Array.isArray(before) ||
    Array.isArray(after)
  )
    return '';
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (name) => !same(before[name] ?? null, after[name] ?? null) || name in before !== name in after,
  );
  return names.length ? ` (${names.sort().join(', ')})` : ' (no member changes)';
};

export function httpConnector(options: HttpConnectorOptions): Connector {
  const base = normalizeBaseUrl(options.baseUrl);
  const send = httpClient({
    headers: options.headers ?? {},
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retries: options.retries ?? DEFAULT_RETRIES,
    fetch: options.fetch ?? globalThis.fetch,
  });
  // Header values are credentials (Authorization, API keys): an API that echoes one in an error
  // body must not get it into the ledger through the error message.
  const secrets = Object.values(options.headers ?? {}).flatMap((value) => [
    value,
    ...value.split(/\s+/).filter((part) => part.length >= 8),
  ]);
  const api: ResourceApi = resourceApi(base, send, secrets);

  const contract: RollbackContract = {
    supportsDryRun: true,
    sideEffects: 'none-on-dry-run',
    canRollback: true,
    method: 'inverse',
    windowMs: options.rollbackWindowMs ?? DEFAULT_WINDOW_MS,
    limitations:
      'a rollback puts the whole previous representation back with PUT (or deletes what was created), overwriting changes others made after the write; ' +
      'server-generated members such as ids and timestamps are restored by value, not by history, and the API may refuse or rewrite them; ' +
      'effects the API set off (webhooks, emails, charges) are not undone; ' +
      'the API must honour Idempotency-Key (replaying the first answer to a repeated key before checking preconditions), strong ETags with If-Match and If-None-Match: *, and JSON merge patch for patch',
  };

  const identity = (call: ActionCall<unknown>) => `http:${resolveTarget(base, call.target).href}`;

  const action = <P>(kind: ActionKind<P>): ConnectorAction<P> => ({
    params: kind.params,
    contract,
    identity,
    resolve: async (call) => ({ target: canonicalTarget(base, call.target), identity: identity(call) }),
    effect: () => kind.effect,
    async validate({ target }) {
      const current = await api.read(target);
      if (kind.existing && current.state === null) return [`${target} does not exist; use create`];
      if (!kind.existing && current.state !== null) return [`${target} already exists; use replace or patch`];
      if (current.state !== null) requireEtag(target, current);
      return [];
    },
    async snapshot({ target }) {
      const current = await api.read(target);
      return { version: current.state === null ? ABSENT : requireEtag(target, current), state: current.state };
    },
    async preview({ target, params }, before) {
      const after = kind.intended(params, before.state);
      const { method } = kind.request(target, params, before);
      return {
        before: before.state,
        after,
        summary: `would ${kind.name} ${target} with ${method}${changedMembers(before.state, after)}`,
      };
    },
    // The state the snapshot saw is not checked here: a retried activity snapshots again and finds
    // its own first write, which the API recognises by the Idempotency-Key and answers as before.
    async execute({ target, params }, { idempotencyKey, before }) {
      const result = await api.write(target, { ...kind.request(target, params, before), idempotencyKey });
      const detail = { status: result.status, attempts: result.attempts };
      if (kind.intended(params, before.state) === null) return { after: null, detail: { ...detail, etag: null } };
      if (result.returned !== undefined) return { after: result.returned, detail: { ...detail, etag: result.etag } };
      const readBack = await api.read(target);
      return { after: readBack.state, detail: { ...detail, etag: readBack.etag } };
    },
    async verify({ target, params }) {
      return verifyRequested(target, (await api.read(target)).state, kind.requested(params));
    },
    async rollback({ target }, { idempotencyKey, before }) {
      const current = await api.read(target);
      // Already as it was (an earlier rollback whose answer was lost, or nothing took effect).
      if (same(current.state, before.state)) return { restored: current.state, detail: { alreadyRestored: true } };
      const precondition =
        current.state === null ? { 'if-none-match': '*' as const } : { 'if-match': requireEtag(target, current) };
      const restore: Write = {
        ...(before.state === null ? { method: 'DELETE' } : { method: 'PUT', body: before.state }),
        precondition,
        idempotencyKey: `${idempotencyKey}/rollback`,
        preconditionFailed: `${target} changed while it was being rolled back; read it and decide by hand`,
      };
      const result = await api.write(target, restore);
      const restored = before.state === null ? null : (result.returned ?? (await api.read(target)).state);
      const detail: JsonObject = { status: result.status, etag: result.etag, attempts: result.attempts };
      return { restored, detail };
    },
  });

  const create = action<{ body: JsonObject }>({
    name: 'create',
    effect: { effect: 'create', action: 'create' },
    params: z.strictObject({ body: resourceBody }),
    existing: false,
    intended: (params) => params.body,
    requested: (params) => ({ put: params.body }),
    request: (target, params) => ({
      method: 'PUT',
      body: params.body,
      precondition: { 'if-none-match': '*' },
      preconditionFailed: `${target} already exists, so it was not created; use replace or patch to change it`,
    }),
  });
  const replace = action<{ body: JsonObject }>({
    name: 'replace',
    effect: { effect: 'modify', action: 'replace' },
    params: z.strictObject({ body: resourceBody }),
    existing: true,
    intended: (params) => params.body,
    requested: (params) => ({ put: params.body }),
    request: (target, params, before) => ({
      method: 'PUT',
      body: params.body,
      precondition: ifMatch(before),
      preconditionFailed: changedSinceRead(target, before),
    }),
  });
  const patch = action<{ merge: JsonObject }>({
    name: 'patch',
    effect: { effect: 'modify', action: 'patch' },
    params: z.strictObject({ merge: mergeBody }),
    existing: true,
    intended: (params, before) => mergePatch(before, params.merge),
    requested: (params) => ({ merge: params.merge }),
    request: (target, params, before) => ({
      method: 'PATCH',
      body: params.merge,
      contentType: MERGE_PATCH,
      precondition: ifMatch(before),
      preconditionFailed: changedSinceRead(target, before),
    }),
  });
  const remove = action<Record<string, never>>({
    name: 'delete',
    effect: { effect: 'delete', action: 'delete' },
    params: z.strictObject({}),
    existing: true,
    intended: () => null,
    requested: () => ({ delete: true }),
    request: (target, _params, before) => ({
      method: 'DELETE',
      precondition: ifMatch(before),
      preconditionFailed: changedSinceRead(target, before),
    }),
  });

  return {
    name: options.name ?? 'http',
    description: `JSON resources of the REST API at ${base.href}, written with PUT, PATCH and DELETE under ETag preconditions`,
    actions: { create, replace, patch, delete: remove },
  };
}
