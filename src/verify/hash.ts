import { hash } from 'node:crypto';
import { canonicalText } from './canonical.js';

export const HASH_BYTES = 32;
/** The predecessor of a chain's first record. */
export const GENESIS_HASH = Buffer.alloc(HASH_BYTES);

/**
 * hash(N) = SHA-256(hash(N-1) || canonical(N)), the rule the database trigger also applies. One
 * one-shot hash of the concatenation: for records of a few hundred bytes that takes about a fifth
 * less time than a Hash object and two updates (BENCHMARKS.md, P2), and `writ verify` does this
 * once per record.
 */
export function chainHash(prevHash: Uint8Array, canonical: Uint8Array): Buffer {
  return sha256OfBoth(prevHash, canonical);
}

// The concatenation is copied into one reused input instead of a new buffer each time: a copy per
// record is garbage, and collecting garbage was about a fifth of a large bundle's verification
// (BENCHMARKS.md, P5). Synchronous, so nothing else can touch the input in between; a worker
// thread has its own.
const JOINED_BYTES = 16 * 1024;
const joined = Buffer.allocUnsafe(JOINED_BYTES);

/** SHA-256(a || b). */
export function sha256OfBoth(a: Uint8Array, b: Uint8Array): Buffer {
  const size = a.length + b.length;
  if (size > JOINED_BYTES) return hash('sha256', Buffer.concat([a, b]), 'buffer');
  joined.set(a, 0);
  joined.set(b, a.length);
  return hash('sha256', joined.subarray(0, size), 'buffer');
}

/**
 * Hex SHA-256 of bytes, or of text as UTF-8. One-shot, like chainHash: a bundle of a thousand
 * operations digests every record for its statements and every file for its manifest.
 */
export function sha256Hex(data: Uint8Array | string): string {
  return hash('sha256', data, 'hex');
}

/**
 * `sha256:<hex>` of a JSON value's RFC 8785 bytes: how a policy revision, a directory version and a
 * row's version name content, so the same content gets the same name wherever it is computed.
 */
export function canonicalDigest(value: unknown): string {
  return `sha256:${sha256Hex(canonicalText(value))}`;
}
