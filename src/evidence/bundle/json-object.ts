export type Json = Record<string, unknown>;

/** A member of a stored record read as an object; anything else (absent, array, scalar) as empty. */
export function obj(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}
