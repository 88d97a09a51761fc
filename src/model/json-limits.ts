/**
 * How large and how deep a request may be. Checked before anything parses the request: zod and
 * RFC 8785 canonicalisation recurse, so a request nested thousands deep would throw RangeError
 * inside them (and, in an activity, be retried for ever) instead of being refused by name.
 */
export const REQUEST_LIMITS = {
  /** Objects and arrays inside one another, the request itself being depth 1. */
  maxDepth: 32,
  /** The request's size as compact JSON, in UTF-16 code units (close to bytes for ASCII). */
  maxBytes: 256 * 1024,
  maxArrayLength: 10_000,
  maxObjectKeys: 1_000,
} as const;

export type JsonLimits = { [K in keyof typeof REQUEST_LIMITS]: number };

/**
 * Walks the value iteratively (no recursion, so no depth can overflow the stack) and stops at the
 * first limit it passes: a 10 MB request costs about as much as 256 KiB of it. Returns a problem
 * naming the limit and where it was passed, or null. The walk measures; it does not validate.
 */
export function exceedsLimits(value: unknown, limits: JsonLimits = REQUEST_LIMITS): string | null {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 1, path: '' }];
  let size = 0;
  const tooBig = () =>
    `the request is larger than ${Math.round(limits.maxBytes / 1024)} KiB as JSON (at most ${limits.maxBytes} bytes)`;
  while (stack.length) {
    const { value: current, depth, path } = stack.pop()!;
    if (typeof current === 'string') size += current.length + 2;
    else if (typeof current === 'number' || typeof current === 'boolean') size += String(current).length;
    else if (current === null || current === undefined) size += 4;
    else if (typeof current === 'object') {
      if (depth > limits.maxDepth)
        return `the request is nested more than ${limits.maxDepth} levels deep (at most ${limits.maxDepth}; too deep at ${shortPath(path)})`;
      if (Array.isArray(current)) {
        if (current.length > limits.maxArrayLength)
          return `${shortPath(path)} holds ${current.length} elements (at most ${limits.maxArrayLength} in any array)`;
        size += 2 + current.length;
        for (let i = current.length - 1; i >= 0; i--)
          stack.push({ value: current[i], depth: depth + 1, path: `${path}.${i}` });
      } else {
        const keys = Object.keys(current);
        if (keys.length > limits.maxObjectKeys)
          return `${shortPath(path)} holds ${keys.length} keys (at most ${limits.maxObjectKeys} in any object)`;
        size += 2;
        for (let i = keys.length - 1; i >= 0; i--) {
          const key = keys[i]!;
          size += key.length + 4;
          stack.push({ value: (current as Record<string, unknown>)[key], depth: depth + 1, path: `${path}.${key}` });
        }
      }
    }
    if (size > limits.maxBytes) return tooBig();
  }
  return null;
}

/** A path short enough to quote in a refusal, however deep or long the hostile one is. */
function shortPath(path: string): string {
  if (!path) return '(request)';
  const parts = path.slice(1).split('.');
  const named = parts.length > 6 ? [...parts.slice(0, 5), `… (${parts.length - 5} more levels)`] : parts;
  const text = named.map((part) => (part.length > 40 ? `${part.slice(0, 40)}…` : part)).join('.');
  return text;
}
