import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NoteSigner, VerifierKey } from '../verify/note.js';
import { isValidKeyName, parseVerifierKey, verifierKeyString } from '../verify/note.js';
import { WritError } from '../model/errors.js';

export const DEFAULT_KEY_NAME = 'writ';

export interface GeneratedKey {
  name: string;
  privateKeyPem: string;
  /** The signed-note verifier key string auditors are given: `<name>+<key id>+<base64 key>`. */
  verifierKey: string;
}

export class KeyNameError extends WritError {
  override readonly name = 'KeyNameError';
  constructor(message: string) {
    super('KEY_NAME', message);
  }
}

export function generateSigningKey(name = DEFAULT_KEY_NAME): GeneratedKey {
  if (!isValidKeyName(name)) throw new KeyNameError(`key name "${name}" must be printable, without spaces or "+"`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    name,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    verifierKey: verifierKeyString(name, publicKey),
  };
}

/**
 * Makes a key and writes it as `writ keygen` lays it out: `<dir>/<name>.key` (the PEM private key,
 * 0600) and `<dir>/<name>.pub` (the verifier key). Never overwrites a key: an existing `.key`
 * fails with EEXIST, because checkpoints signed with it would no longer verify.
 */
export async function writeSigningKey(dir: string, name = DEFAULT_KEY_NAME): Promise<GeneratedKey & { path: string }> {
  const key = generateSigningKey(name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${name}.key`);
  await writeFile(path, key.privateKeyPem, { mode: 0o600, flag: 'wx' });
  await writeFile(join(dir, `${name}.pub`), `${key.verifierKey}\n`, { flag: 'wx' });
  return { ...key, path };
}

/** WRIT_SIGNING_KEY is a path to the PEM private key `writ keygen` wrote. */
export async function loadSigner(path: string, name = DEFAULT_KEY_NAME): Promise<NoteSigner & { verifierKey: string }> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the signing key ${path}: ${(error as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error(`the signing key ${path} is ${privateKey.asymmetricKeyType}, not Ed25519`);
  return { name, privateKey, verifierKey: verifierKeyString(name, createPublicKey(privateKey)) };
}

/** A verifier key given inline (`name+hex+base64`) or as the path of a file holding one. */
export async function loadVerifierKey(value: string): Promise<VerifierKey> {
  const text = value.includes('+') ? value : (await readFile(value, 'utf8')).trim();
  return parseVerifierKey(text);
}
