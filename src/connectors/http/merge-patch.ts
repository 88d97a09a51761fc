import type { Json, JsonObject } from '../../model/json.js';

const isObject = (value: Json): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * JSON Merge Patch (RFC 7396): objects merge recursively, `null` removes a member, anything else
 * (arrays included) replaces. Members are collected in a Map so a `__proto__` key stays data.
 */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const members = new Map<string, Json>(isObject(target) ? Object.entries(target) : []);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) members.delete(key);
    else members.set(key, mergePatch(members.get(key) ?? null, value));
  }
  return Object.fromEntries(members);
}
