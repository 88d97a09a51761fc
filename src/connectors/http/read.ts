import type { Json } from '../../model/json.js';
import type { ActionCall, Preview, Snapshot } from '../types.js';
import { ConnectorInputError } from '../types.js';
import type { ActionKind } from './actions.js';
import { same } from './compare.js';
import type { Representation, ResourceApi } from './resource.js';

const ABSENT = 'absent';

/** Without ETags a write cannot tell whether someone changed the resource since it was read. */
export const requireEtag = (target: string, current: Representation): string => {
  if (current.etag === null)
    throw new ConnectorInputError(
      `the API returned no ETag for ${target}; this connector needs ETag and If-Match to detect changes made by others`,
    );
  return current.etag;
};

export async function validate<P>(api: ResourceApi, kind: ActionKind<P>, target: string): Promise<string[]> {
  const current = await api.read(target);
  if (kind.existing && current.state === null) return [`${target} does not exist; use create`];
  if (!kind.existing && current.state !== null) return [`${target} already exists; use replace or patch`];
  if (current.state !== null) requireEtag(target, current);
  return [];
}

export async function snapshot(api: ResourceApi, target: string): Promise<Snapshot> {
  const current = await api.read(target);
  return { version: current.state === null ? ABSENT : requireEtag(target, current), state: current.state };
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

export function preview<P>(kind: ActionKind<P>, { target, params }: ActionCall<P>, before: Snapshot): Preview {
  const after = kind.intended(params, before.state);
  const { method } = kind.request(target, params, before);
  return {
    before: before.state,
    after,
    summary: `would ${kind.name} ${target} with ${method}${changedMembers(before.state, after)}`,
  };
}
