import { decodeBase64Strict } from './base64.js';
import { EvidenceFormatError } from './format-error.js';
import { isHash } from './merkle.js';
import type { NoteFailure, NoteKey, NoteSignature, NoteSigner } from './note.js';
import { hasOnlyNoteCharacters, parseNote, signNote, verifyNoteSignatures } from './note.js';
import { isTreeSize } from './tree-math.js';

/**
 * C2SP tlog checkpoints (https://c2sp.org/tlog-checkpoint): a signed note whose text is
 *
 *     <origin>
 *     <tree size, decimal, no leading zeros>
 *     <base64 RFC 9162 root hash>
 *     [extension lines]
 *
 * Parsing is strict, beyond what some readers accept: every checkpoint has one spelling, so two
 * texts that differ are two different claims.
 */
export interface Checkpoint {
  /** Who issued it; unique per log. */
  origin: string;
  size: number;
  root: Buffer;
  /** Opaque, non-empty lines after the root; the spec discourages them. */
  extensions: string[];
}

export interface CheckpointInput {
  origin: string;
  size: number;
  root: Uint8Array;
  extensions?: readonly string[];
}

export interface ParsedCheckpoint {
  checkpoint: Checkpoint;
  /** The signed text. */
  body: string;
  signatures: NoteSignature[];
}

export type CheckpointFailure = NoteFailure | 'WRONG_ORIGIN';

export type CheckpointVerdict =
  { ok: true; checkpoint: Checkpoint } | { ok: false; code: CheckpointFailure; reason: string };

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const ROOT_BYTES = 32;

/** The note text of a checkpoint, for signCheckpoint. */
export function formatCheckpoint(input: CheckpointInput): string {
  const extensions = input.extensions ?? [];
  checkLine(input.origin, 'the origin');
  extensions.forEach((line, i) => checkLine(line, `extension line ${i + 1}`));
  if (!isTreeSize(input.size))
    throw new EvidenceFormatError(`tree size ${input.size} is not a whole number this code can represent exactly`);
  if (!isHash(input.root)) throw new EvidenceFormatError(`a root hash is ${ROOT_BYTES} bytes`);
  return [input.origin, String(input.size), Buffer.from(input.root).toString('base64'), ...extensions]
    .map((line) => `${line}\n`)
    .join('');
}

/** Reads a checkpoint's note text (no signatures). */
export function parseCheckpointBody(body: string): Checkpoint {
  if (!hasOnlyNoteCharacters(body))
    throw new EvidenceFormatError(
      'the checkpoint has a control character other than newline (a CR, a tab) or is not valid Unicode',
    );
  if (!body.endsWith('\n')) throw new EvidenceFormatError('the checkpoint text does not end with a newline');
  const [origin, sizeText, rootText, ...extensions] = body.slice(0, -1).split('\n');
  if (origin === undefined || sizeText === undefined || rootText === undefined)
    throw new EvidenceFormatError('a checkpoint has an origin, a tree size and a root hash line');
  if (origin === '') throw new EvidenceFormatError('the origin line is empty');
  if (!DECIMAL.test(sizeText))
    throw new EvidenceFormatError(
      `tree size ${JSON.stringify(sizeText)} is not a decimal number without leading zeros`,
    );
  const size = Number(sizeText);
  if (!isTreeSize(size))
    throw new EvidenceFormatError(`tree size ${sizeText} is larger than this verifier can represent exactly`);
  const root = decodeBase64Strict(rootText);
  if (!root) throw new EvidenceFormatError('the root hash is not standard base64');
  if (root.length !== ROOT_BYTES)
    throw new EvidenceFormatError(`the root hash has ${root.length} bytes, not ${ROOT_BYTES}`);
  const empty = extensions.indexOf('');
  if (empty >= 0) throw new EvidenceFormatError(`extension line ${empty + 1} is empty`);
  return { origin, size, root, extensions };
}

/** Signs a checkpoint text; refuses one that does not parse, so nothing malformed ever carries Writ's signature. */
export function signCheckpoint(body: string, signer: NoteSigner): string {
  parseCheckpointBody(body);
  return signNote(body, signer);
}

/** Reads a signed checkpoint without verifying it. Throws EvidenceFormatError. */
export function parseCheckpoint(text: string | Uint8Array): ParsedCheckpoint {
  const note = parseNote(text);
  return { checkpoint: parseCheckpointBody(note.text), body: note.text, signatures: note.signatures };
}

/**
 * Accepts a checkpoint only if it is well formed and signed by `key` (and, when given, issued by
 * `expected.origin`). The key is trusted configuration: one that is not Ed25519 is a programming
 * error and throws; everything about the text is untrusted and only ever yields a verdict.
 */
export function verifyCheckpoint(
  text: string | Uint8Array,
  key: NoteKey,
  expected: { origin?: string } = {},
): CheckpointVerdict {
  let parsed: ParsedCheckpoint;
  try {
    parsed = parseCheckpoint(text);
  } catch (error) {
    if (error instanceof EvidenceFormatError) return { ok: false, code: 'MALFORMED', reason: error.message };
    throw error;
  }
  const verdict = verifyNoteSignatures({ text: parsed.body, signatures: parsed.signatures }, key);
  if (!verdict.ok) return verdict;
  if (expected.origin !== undefined && parsed.checkpoint.origin !== expected.origin) {
    return {
      ok: false,
      code: 'WRONG_ORIGIN',
      reason: `the checkpoint is from ${JSON.stringify(parsed.checkpoint.origin)}, not ${JSON.stringify(expected.origin)}`,
    };
  }
  return { ok: true, checkpoint: parsed.checkpoint };
}

function checkLine(line: string, what: string): void {
  if (typeof line !== 'string' || line === '') throw new EvidenceFormatError(`${what} is empty`);
  if (line.includes('\n') || !hasOnlyNoteCharacters(line))
    throw new EvidenceFormatError(`${what} has a newline or another control character`);
}
