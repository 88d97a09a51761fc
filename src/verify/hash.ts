import { createHash } from 'node:crypto';

export const HASH_BYTES = 32;
/** The predecessor of a chain's first record. */
export const GENESIS_HASH = Buffer.alloc(HASH_BYTES);

/** hash(N) = SHA-256(hash(N-1) || canonical(N)), the rule the database trigger also applies. */
export function chainHash(prevHash: Uint8Array, canonical: Uint8Array): Buffer {
  return createHash('sha256').update(prevHash).update(canonical).digest();
}
