import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSigner, writeSigningKey } from '../evidence/keys.js';
import type { NoteSigner } from '../verify/note.js';

export interface SigningKey {
  /** The PEM private key's path: what WRIT_SIGNING_KEY names. */
  path: string;
  name: string;
  signer: NoteSigner & { verifierKey: string };
}

/**
 * The Ed25519 key that signs checkpoints (what `writ keygen` makes): made in `dir` when missing,
 * reused when there (`writ dev`: checkpoints signed before a restart still verify after it).
 */
export async function ensureSigningKey(dir: string, name: string): Promise<SigningKey> {
  const path = join(dir, `${name}.key`);
  const present = await access(path).then(
    () => true,
    () => false,
  );
  if (!present) await writeSigningKey(dir, name);
  return { path, name, signer: await loadSigner(path, name) };
}
