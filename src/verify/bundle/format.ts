/**
 * The evidence bundle's fixed names and the small pure helpers both the exporter and the verifier
 * use. docs/FORMAT.md section 10 is the contract; this file only spells it in code.
 */
import { sha256Hex } from '../hash.js';

/**
 * What an export writes. Format 2 differs from 1 only in proofs.json: each proof names its hashes by
 * their place in one shared list instead of spelling them out, since the records of a trace share
 * most of their paths. Format 3 differs from 2 only in the statements: all of them in one file, a
 * DSSE envelope a line (in-toto's bundle format), instead of a file an operation, since a trace of a
 * thousand operations made a thousand small files to write, list and read. Verifiers accept all
 * three: bundles already handed to auditors stay checkable.
 */
export const BUNDLE_FORMAT = 'writ-bundle/3';
export const BUNDLE_FORMAT_V2 = 'writ-bundle/2';
export const BUNDLE_FORMAT_V1 = 'writ-bundle/1';
export const BUNDLE_FORMATS: readonly string[] = [BUNDLE_FORMAT_V1, BUNDLE_FORMAT_V2, BUNDLE_FORMAT];
/** Whether proofs.json names its hashes by their place in a shared `nodes` list (format 2 on). */
export function sharesProofNodes(format: string): boolean {
  return format !== BUNDLE_FORMAT_V1;
}
/** Whether the statements are lines of STATEMENTS (format 3 on) rather than a file an operation. */
export function statementsInOneFile(format: string): boolean {
  return format !== BUNDLE_FORMAT_V1 && format !== BUNDLE_FORMAT_V2;
}
export const MANIFEST = 'manifest.json';
export const MANIFEST_SIG = 'manifest.sig';
export const RECORDS_JSONL = 'records.jsonl';
export const RECORDS_CSV = 'records.csv';
export const PROOFS = 'proofs.json';
export const CHECKPOINT = 'checkpoint.txt';
export const KEY_PUB = 'key.pub';
export const README = 'README.md';
/** Format 3: every operation's signed statement, one DSSE envelope a line (in-toto's `.intoto.jsonl`). */
export const STATEMENTS = 'statements.intoto.jsonl';
/** RFC 3161 tokens of the bundle's checkpoint (and of the stamped one before it); present when there are any. */
export const TIMESTAMPS = 'timestamps.json';
/** Each personal value's state where the records hold a commitment, and any disclosures (docs/FORMAT.md 10.8). */
export const SEALED = 'sealed.json';
/** The first line of the text manifest.sig signs; the second is the SHA-256 hex of manifest.json. */
export const MANIFEST_NOTE_HEADER = 'writ-bundle-manifest/v1';

export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://writ.dev/operation/v1';

const STATEMENT_FILE = /^statement\.([A-Za-z0-9._-]+)\.dsse\.json$/;

/** Operation ids become file names: anything outside [A-Za-z0-9._-] is percent-encoded (and '%' never occurs). */
export function statementFileName(operationId: string): string {
  const safe = operationId.replace(/[^A-Za-z0-9._-]/g, (c) =>
    Buffer.from(c, 'utf8').toString('hex').replace(/(..)/g, '_$1'),
  );
  return `statement.${safe}.dsse.json`;
}

export function isStatementFileName(name: string): boolean {
  return STATEMENT_FILE.test(name);
}

/**
 * DSSE v1 pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body, lengths in
 * bytes, decimal.
 */
export function dssePae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}

export interface ManifestEntry {
  name: string;
  sha256: string;
  size: number;
}

export interface Manifest {
  format: string;
  chain: string;
  origin: string;
  createdAt: string;
  /** Every file of the bundle except manifest.json and manifest.sig, sorted by name. */
  files: ManifestEntry[];
  /** The export this bundle was written by; absent in bundles exported before it was recorded. */
  export?: ExportMembership;
}

/**
 * What ties the bundles of one export together, signed in each manifest: a bundle handed over
 * without its siblings, or beside a bundle of another export, is found out.
 */
export interface ExportMembership {
  /** 32 hex digits, random, the same in every bundle the export wrote. */
  id: string;
  /** Every chain the export wrote a bundle of, sorted and without repeats; one for a one-chain export. */
  chains: string[];
}

export const EXPORT_ID = /^[0-9a-f]{32}$/;

/** One line of records.jsonl (members in this order). */
export interface RecordLine {
  seq: number;
  chain: string;
  canonical: string;
  prevHash: string;
  hash: string;
}

/** proofs.json of format 2: `nodes` holds each hash once; a proof's `path` indexes it, leaf's sibling first. */
export interface ProofsFile {
  chain: string;
  treeSize: number;
  /** base64 of the checkpoint's root, repeated for readers; the checkpoint is authoritative. */
  root: string;
  nodes: string[];
  proofs: Array<{ seq: number; leafIndex: number; path: number[] }>;
}

/** timestamps.json: tokens for `checkpoint` (the size of checkpoint.txt) and the stamped checkpoint before it. */
export interface TimestampsFile {
  checkpoint: number;
  /** Ascending size; each `note` is the signed checkpoint the token stamps, `token` base64 of its DER. */
  stamps: Array<{ size: number; note: string; token: string }>;
  /** Present when checkpoint.txt has no token: why (no authority configured, or what it answered). */
  unstamped?: string;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/** The manifest note text: two lines, each ending in a newline. */
export function manifestNoteText(manifestBytes: Uint8Array): string {
  return `${MANIFEST_NOTE_HEADER}\n${sha256Hex(manifestBytes)}\n`;
}

/**
 * RFC 4180: a field with a comma, quote, CR or LF is quoted and its quotes doubled; lines end in CRLF.
 * A cell a spreadsheet would take for a formula (OWASP CSV injection: it begins with =, +, -, @,
 * a tab or a CR) is prefixed with a single quote first: cells carry text the requester chose.
 */
export function csvRow(fields: readonly string[]): string {
  return `${fields
    .map((f) => {
      const cell = /^[=+\-@\t\r]/.test(f) ? `'${f}` : f;
      return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
    })
    .join(',')}\r\n`;
}
