import { configure } from 'safe-stable-stringify';

/**
 * RFC 8785 (JCS) for the values JSON carries: keys sorted by UTF-16 code units, strings and
 * numbers as ECMAScript's JSON.stringify writes them, no whitespace. That is exactly what
 * safe-stable-stringify's deterministic mode writes, at two to three times the speed of the RFC
 * author's `canonicalize`, which it replaced on the append path (BENCHMARKS.md, P1). A test
 * compares the two byte for byte over generated JSON (test/ledger/canonical-reference.property.test.ts).
 * Strict: NaN, Infinity, functions, bigints and cycles throw instead of being written some way.
 */
const jcs = configure({ deterministic: true, strict: true, circularValue: Error });

/** An escaped lone surrogate: JSON.stringify writes \uXXXX for one, where RFC 8785 refuses it. */
const ESCAPED_LONE_SURROGATE = /(?<!\\)(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/;

/**
 * RFC 8785 (JCS) canonical JSON as UTF-8 bytes. The ledger hashes these bytes and stores them
 * as they are; nothing is ever re-serialised from jsonb, which reorders keys.
 */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalText(value), 'utf8');
}

export function canonicalText(value: unknown): string {
  const text = jcs(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  // JSON.stringify escapes only control characters and lone surrogates as \u, so the scan is
  // needed only when such an escape is there at all.
  if (text.includes('\\ud') && ESCAPED_LONE_SURROGATE.test(text))
    throw new TypeError('a string holds a lone UTF-16 surrogate, which RFC 8785 cannot represent');
  return text;
}

/**
 * Finds the first value PostgreSQL's jsonb or RFC 8785 cannot carry faithfully, so a bad record
 * is refused in Node with a path instead of failing a whole batch inside the database.
 * Returns null when the value is storable.
 */
export function unstorableJson(value: unknown, path = '$'): string | null {
  if (value === null || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${path}: ${value} is not a finite number`;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return `${path}: contains a NUL character (\\u0000), which jsonb cannot store`;
    if (!value.isWellFormed()) return `${path}: contains a lone UTF-16 surrogate`;
    return null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = unstorableJson(value[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return null;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return `${path}: is not a plain JSON object`;
    for (const [key, inner] of Object.entries(value)) {
      const keyProblem = unstorableJson(key, `${path} key ${JSON.stringify(key)}`);
      if (keyProblem) return keyProblem;
      const problem = unstorableJson(inner, `${path}.${key}`);
      if (problem) return problem;
    }
    return null;
  }
  return `${path}: a value of type ${typeof value} is not JSON`;
}
