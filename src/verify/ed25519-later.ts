import type { KeyObject } from 'node:crypto';
import { webcrypto } from 'node:crypto';
import { ed25519PublicKeyBytes } from './note.js';

const imported = new WeakMap<KeyObject, Promise<webcrypto.CryptoKey>>();

/**
 * An Ed25519 verification (RFC 8032, the same OpenSSL call as crypto.verify) run on libuv's thread
 * pool through WebCrypto, so that a bundle's thousand statement signatures are checked on the
 * other core while the main thread reads records. Never rejects: anything that cannot be verified
 * is false.
 */
export async function verifyEd25519Later(
  message: Uint8Array,
  publicKey: KeyObject,
  signature: Uint8Array,
): Promise<boolean> {
  try {
    let key = imported.get(publicKey);
    if (!key) {
      key = webcrypto.subtle.importKey('raw', ed25519PublicKeyBytes(publicKey), { name: 'Ed25519' }, false, ['verify']);
      imported.set(publicKey, key);
    }
    return await webcrypto.subtle.verify({ name: 'Ed25519' }, await key, signature, message);
  } catch {
    return false;
  }
}
