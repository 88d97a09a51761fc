import { canonicalText } from '../../verify/canonical.js';
import type { Json, JsonObject } from '../../model/json.js';
import type { Verification } from '../types.js';

export const same = (a: Json, b: Json) => canonicalText(a) === canonicalText(b);

const isObject = (value: Json | undefined): value is JsonObject =>
  value !== undefined && value !== null && typeof value === 'object' && !Array.isArray(value);

/** What a write asked of the resource: PUT a whole body, merge-patch some members, or delete it. */
export type Requested = { put: JsonObject } | { merge: JsonObject } | { delete: true };

/** Top-level members the PUT body set that the resource does not hold exactly. */
const putMisses = (observed: JsonObject, body: JsonObject) =>
  Object.entries(body)
    .filter(([name, value]) => !(name in observed) || !same(observed[name]!, value))
    .map(([name]) => name);

/** Whether the resource holds what a merge patch asked: set members equal, null members absent, objects recursively. */
const patchHolds = (observed: Json | undefined, patch: Json): boolean => {
  if (!isObject(patch)) return observed !== undefined && same(observed, patch);
  if (!isObject(observed)) return false;
  return Object.entries(patch).every(([name, value]) =>
    value === null ? !(name in observed) : patchHolds(observed[name], value),
  );
};

const patchMisses = (observed: JsonObject, merge: JsonObject) =>
  Object.entries(merge)
    .filter(([name, value]) => !patchHolds(observed, { [name]: value }))
    .map(([name]) => name);

/**
 * Checks that the resource as the API serves it now holds what the request asked: each member a
 * PUT set, each member a merge patch set or removed. Members the API adds of its own (ids,
 * timestamps) are left alone; what the API answered to the write is never the reference, since an
 * API that changed a value answers with the changed value too.
 */
export function verifyRequested(target: string, observed: Json, requested: Requested): Verification {
  if ('delete' in requested) {
    return observed === null
      ? { ok: true, observed, expected: null }
      : { ok: false, observed, expected: null, reason: `${target} exists after it was deleted` };
  }
  const expected = 'put' in requested ? requested.put : requested.merge;
  if (observed === null) return { ok: false, observed, expected, reason: `${target} does not exist after the write` };
  if (!isObject(observed))
    return {
      ok: false,
      observed,
      expected,
      reason: `${target} holds ${canonicalText(observed)}, not an object with what was asked`,
    };
  const misses = 'put' in requested ? putMisses(observed, requested.put) : patchMisses(observed, requested.merge);
  return misses.length
    ? { ok: false, observed, expected, reason: `${target} does not hold what was asked in ${misses.sort().join(', ')}` }
    : { ok: true, observed, expected };
}
