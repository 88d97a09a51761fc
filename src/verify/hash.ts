import { createHash } from 'node:crypto';
import { canonicalText } from './canonical.js';

export const HASH_BYTES = 32;
/** The predecessor of a chain's first record. */
export const GENESIS_HASH = Buffer.alloc(HASH_BYTES);

/** hash(N) = SHA-256(hash(N-1) || canonical(N)), the rule the database trigger also applies. */
export function chainHash(prevHash: Uint8Array, canonical: Uint8Array): Buffer {
  return createHash('sha256').update(prevHash).update(canonical).digest();
}

/** Hex SHA-256 of bytes, or of text as UTF-8. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * `sha256:<hex>` of a JSON value's RFC 8785 bytes: how a policy revision, a directory version and a
 * row's version name content, so the same content gets the same name wherever it is computed.
 */
export function canonicalDigest(value: unknown): string {
  return `sha256:${sha256Hex(canonicalText(value))}`;
}
