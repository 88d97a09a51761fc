import type { KeyObject } from 'node:crypto';
import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import { decodeBase64Strict } from './base64.js';
import { EvidenceFormatError } from './format-error.js';

/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys: the envelope of a
 * checkpoint, in the format Go's golang.org/x/mod/sumdb/note and the tlog witnesses read, so a
 * third party can check Writ's checkpoints with tools that already exist.
 *
 *     <text, ending in a newline>
 *     <blank line>
 *     — <key name> <base64(4-byte key id || signature)>
 */

/** The signature type byte signed-note assigns to Ed25519; it is also hashed into the key id. */
export const ED25519_SIGNATURE_TYPE = 0x01;
export const KEY_ID_BYTES = 4;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
/** Go's note package refuses more; the spec requires accepting at least 16. */
export const MAX_SIGNATURES = 100;
/** U+2014 EM DASH, then a space. */
const SIGNATURE_PREFIX = '\u2014 ';

export interface NoteKey {
  name: string;
  publicKey: KeyObject;
}

export interface NoteSigner {
  name: string;
  privateKey: KeyObject;
}

/** A key read from its verifier-key string, usable as a NoteKey. */
export interface VerifierKey extends NoteKey {
  keyId: Buffer;
}

export interface NoteSignature {
  name: string;
  keyId: Buffer;
  /** The signature bytes after the key id; for Ed25519, 64 of them. */
  signature: Buffer;
}

export interface SignedNote {
  /** The signed text, final newline included, separating blank line excluded. */
  text: string;
  signatures: NoteSignature[];
}

export type NoteFailure = 'MALFORMED' | 'UNKNOWN_KEY' | 'BAD_SIGNATURE';

export type NoteVerdict = { ok: true; note: SignedNote } | { ok: false; code: NoteFailure; reason: string };

/** Non-empty, without Unicode spaces or '+' (the separators of signature lines and verifier keys). */
export function isValidKeyName(name: string): boolean {
  return name !== '' && hasOnlyNoteCharacters(name) && !/[\p{White_Space}+]/u.test(name);
}

/** Valid Unicode (so valid UTF-8 once encoded) with no ASCII control character except newline. */
export function hasOnlyNoteCharacters(text: string): boolean {
  if (!text.isWellFormed()) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) return false;
  }
  return true;
}

/** The 32 bytes RFC 8032 calls the public key, from either half of an Ed25519 key pair. */
export function ed25519PublicKeyBytes(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new TypeError(`signed-note keys here are Ed25519, not ${key.asymmetricKeyType ?? key.type}`);
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const { x } = publicKey.export({ format: 'jwk' });
  const raw = typeof x === 'string' ? Buffer.from(x, 'base64url') : Buffer.alloc(0);
  if (raw.length !== ED25519_PUBLIC_KEY_BYTES)
    throw new TypeError('the Ed25519 key did not export 32 public key bytes');
  return raw;
}

// Deriving an id exports the public key (as JWK): a bundle of a thousand statements asked for the
// same id a thousand times.
const keyIds = new WeakMap<KeyObject, Map<string, Buffer>>();

/** SHA-256(key name || 0x0A || 0x01 || public key)[:4], as signed-note recommends for Ed25519. */
export function keyId(name: string, publicKey: KeyObject): Buffer {
  let byName = keyIds.get(publicKey);
  if (!byName) keyIds.set(publicKey, (byName = new Map()));
  let id = byName.get(name);
  if (!id) {
    id = keyIdOf(
      checkedName(name),
      Buffer.concat([Buffer.from([ED25519_SIGNATURE_TYPE]), ed25519PublicKeyBytes(publicKey)]),
    );
    byName.set(name, id);
  }
  return Buffer.from(id);
}

/** `<name>+<8 hex digits of key id>+<base64(0x01 || public key)>`, the form verifiers are configured with. */
export function verifierKeyString(name: string, publicKey: KeyObject): string {
  const encoded = Buffer.concat([Buffer.from([ED25519_SIGNATURE_TYPE]), ed25519PublicKeyBytes(publicKey)]);
  return `${checkedName(name)}+${keyIdOf(name, encoded).toString('hex')}+${encoded.toString('base64')}`;
}

/**
 * Reads a verifier-key string, refusing anything but the exact form verifierKeyString writes:
 * a key whose id does not match its name and bytes was mistyped or tampered with.
 */
export function parseVerifierKey(text: string): VerifierKey {
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) throw new EvidenceFormatError('a verifier key is <name>+<key id>+<key>');
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  const encoded = decodeBase64Strict(text.slice(second + 1));
  if (!isValidKeyName(name))
    throw new EvidenceFormatError(`verifier key name ${JSON.stringify(name)} is empty or has a space or '+'`);
  if (!/^[0-9a-f]{8}$/.test(idHex))
    throw new EvidenceFormatError(`verifier key id ${JSON.stringify(idHex)} is not 8 lower-case hex digits`);
  if (!encoded || encoded.length === 0) throw new EvidenceFormatError('the verifier key is not standard base64');
  if (encoded[0] !== ED25519_SIGNATURE_TYPE)
    throw new EvidenceFormatError(
      `signature type 0x${encoded[0]!.toString(16).padStart(2, '0')} is not Ed25519 (0x01)`,
    );
  if (encoded.length !== 1 + ED25519_PUBLIC_KEY_BYTES)
    throw new EvidenceFormatError(
      `an Ed25519 verifier key has ${ED25519_PUBLIC_KEY_BYTES} key bytes, not ${encoded.length - 1}`,
    );
  const id = keyIdOf(name, encoded);
  if (id.toString('hex') !== idHex)
    throw new EvidenceFormatError(`key id ${idHex} does not match the name and key (${id.toString('hex')})`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: encoded.subarray(1).toString('base64url') },
      format: 'jwk',
    });
  } catch (error) {
    throw new EvidenceFormatError(`the verifier key is not an Ed25519 public key: ${(error as Error).message}`);
  }
  return { name, keyId: id, publicKey };
}

/** The note text followed by a blank line and one signature line. */
export function signNote(text: string, signer: NoteSigner): string {
  if (!text.endsWith('\n')) throw new EvidenceFormatError('a note text ends with a newline');
  if (!hasOnlyNoteCharacters(text))
    throw new EvidenceFormatError('a note text is valid Unicode without control characters other than newline');
  const id = keyId(signer.name, signer.privateKey);
  const signature = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
  return `${text}\n${SIGNATURE_PREFIX}${signer.name} ${Buffer.concat([id, signature]).toString('base64')}\n`;
}

/**
 * Splits a note into text and signatures without verifying anything; the text must be ignored
 * until verifyNote (or verifyCheckpoint) has accepted a signature on it. Bytes must be UTF-8.
 */
export function parseNote(input: string | Uint8Array): SignedNote {
  const note = typeof input === 'string' ? input : decodeUtf8(input);
  if (!hasOnlyNoteCharacters(note))
    throw new EvidenceFormatError(
      'the note has a control character other than newline (a CR, a tab) or is not valid Unicode',
    );
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new EvidenceFormatError('the note has no blank line before its signatures');
  const block = note.slice(split + 2);
  if (block === '') throw new EvidenceFormatError('the note has no signatures');
  if (!block.endsWith('\n')) throw new EvidenceFormatError('the last signature line does not end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES)
    throw new EvidenceFormatError(`the note has ${lines.length} signatures; at most ${MAX_SIGNATURES} are read`);
  return { text: note.slice(0, split + 1), signatures: lines.map(parseSignatureLine) };
}

/** Checks the note's text and its signature(s) by `key`. */
export function verifyNote(input: string | Uint8Array, key: NoteKey): NoteVerdict {
  let note: SignedNote;
  try {
    note = parseNote(input);
  } catch (error) {
    if (error instanceof EvidenceFormatError) return { ok: false, code: 'MALFORMED', reason: error.message };
    throw error;
  }
  return verifyNoteSignatures(note, key);
}

/**
 * Signatures by other keys (a witness's cosignature, a rotated key) are ignored, as signed-note
 * requires. A signature that names this key by name and id must verify, every time it appears:
 * a bad one means the note was altered or forged, even when another copy is good.
 */
export function verifyNoteSignatures(note: SignedNote, key: NoteKey): NoteVerdict {
  const id = keyId(key.name, key.publicKey);
  const mine = note.signatures.filter((s) => s.name === key.name && s.keyId.equals(id));
  const label = `${key.name}+${id.toString('hex')}`;
  if (mine.length === 0) {
    const present = note.signatures.map((s) => `${s.name}+${s.keyId.toString('hex')}`).join(', ');
    return { ok: false, code: 'UNKNOWN_KEY', reason: `no signature by ${label}; signed by ${present}` };
  }
  const message = Buffer.from(note.text, 'utf8');
  for (const { signature } of mine) {
    if (!verifyEd25519(message, key.publicKey, signature)) {
      return {
        ok: false,
        code: 'BAD_SIGNATURE',
        reason: `the signature by ${label} does not verify: the note was changed or not signed by this key`,
      };
    }
  }
  return { ok: true, note };
}

function verifyEd25519(message: Buffer, publicKey: KeyObject, signature: Buffer): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}

function parseSignatureLine(line: string, index: number): NoteSignature {
  const where = `signature line ${index + 1}`;
  if (!line.startsWith(SIGNATURE_PREFIX))
    throw new EvidenceFormatError(`${where} does not start with an em dash and a space`);
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  if (!isValidKeyName(name)) throw new EvidenceFormatError(`${where} has an invalid key name`);
  const bytes = space < 0 ? null : decodeBase64Strict(rest.slice(space + 1));
  if (!bytes) throw new EvidenceFormatError(`${where} has no standard base64 signature`);
  if (bytes.length <= KEY_ID_BYTES)
    throw new EvidenceFormatError(`${where} is too short to hold a key id and a signature`);
  return {
    name,
    keyId: Buffer.from(bytes.subarray(0, KEY_ID_BYTES)),
    signature: Buffer.from(bytes.subarray(KEY_ID_BYTES)),
  };
}

function keyIdOf(name: string, encodedKey: Uint8Array): Buffer {
  const digest = createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a]))
    .update(encodedKey)
    .digest();
  return Buffer.from(digest.subarray(0, KEY_ID_BYTES));
}

function checkedName(name: string): string {
  if (!isValidKeyName(name))
    throw new TypeError(`key name ${JSON.stringify(name)} is empty or has a space, a '+' or a control character`);
  return name;
}

/** A byte-order mark is kept as text, not dropped: it is part of what was signed. */
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new EvidenceFormatError('the note is not valid UTF-8');
  }
}
