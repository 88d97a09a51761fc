import { z } from 'zod';
import type { Effect } from '../../model/policy.js';
import type { Json, JsonObject } from '../../model/json.js';
import type { Snapshot } from '../types.js';
import type { Requested } from './compare.js';
import { mergePatch } from './merge-patch.js';
import type { Write } from './resource.js';

/** What one action sends and what it means for the resource. */
export interface ActionKind<P> {
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

const MERGE_PATCH = 'application/merge-patch+json';

const resourceBody = z.record(z.string(), z.json());
const mergeBody = resourceBody.refine((merge) => Object.keys(merge).length > 0, 'must change at least one member');

// `If-Match: *` when the snapshot saw nothing: the write then fails with 412 unless the resource
// exists, instead of silently creating it.
const ifMatch = (before: Snapshot) => ({ 'if-match': before.state === null ? '*' : before.version });

const changedSinceRead = (target: string, before: Snapshot) =>
  before.state === null
    ? `${target} does not exist`
    : `${target} changed since it was read (it no longer has ETag ${before.version}); read it again and resubmit`;

export const create: ActionKind<{ body: JsonObject }> = {
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
};

export const replace: ActionKind<{ body: JsonObject }> = {
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
};

export const patch: ActionKind<{ merge: JsonObject }> = {
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
};

export const remove: ActionKind<Record<string, never>> = {
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
};
