import { canonicalText } from '../../ledger/canonical.js';
import type { Json, JsonObject } from '../../model/json.js';
import type { Verification } from '../types.js';

export const same = (a: Json, b: Json) => canonicalText(a) === canonicalText(b);

const isObject = (value: Json): value is JsonObject => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Top-level members that differ, or nothing when the two are not both objects. */
function differingMembers(observed: JsonObject, expected: JsonObject): string[] {
  const names = new Set([...Object.keys(expected), ...Object.keys(observed)]);
  return [...names].filter((name) => !same(observed[name] ?? null, expected[name] ?? null) || (name in observed) !== (name in expected)).sort();
}

const holds = (returned: Json, written: Json) => isObject(returned) && isObject(written)
  && Object.entries(written).every(([name, value]) => name in returned && same(returned[name]!, value));

/**
 * Compares what the resource holds now with what was written. An API may add members of its own
 * (ids, timestamps): a resource that is exactly what the API returned for the write, and holds
 * every member written, also passes.
 */
export function compareWithWritten(target: string, observed: Json, expected: Json, returned: Json): Verification {
  const verdict = { observed, expected };
  if (expected === null) {
    return observed === null ? { ok: true, ...verdict } : { ok: false, ...verdict, reason: `${target} exists after it was deleted` };
  }
  if (observed === null) return { ok: false, ...verdict, reason: `${target} no longer exists: it was deleted after the write` };
  if (same(observed, expected) || (same(observed, returned) && holds(returned, expected))) return { ok: true, ...verdict };
  const reason = isObject(observed) && isObject(expected)
    ? `${target} differs from what was written in ${differingMembers(observed, expected).join(', ')}`
    : `${target} holds ${canonicalText(observed)}, not what was written`;
  return { ok: false, ...verdict, reason };
}
