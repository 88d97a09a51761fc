import { scanCanonical } from './canonical-check.js';
import type { RecordMembers } from './canonical-check.js';
import { chainHash } from './hash.js';
import { RECORD_FORMAT_VERSION } from './record-format.js';

/** One record as it is stored and shipped: the hashed bytes and the two hashes that chain it. */
export interface ChainedRecord {
  canonical: Uint8Array;
  prevHash: Uint8Array;
  hash: Uint8Array;
}

export interface RecordContext {
  /** The hash the record must link to; null when its predecessor is not at hand (a bundle holds only some records). */
  previousHash: Uint8Array | null;
  /** The chain the record is read as part of. */
  chainId: unknown;
  /** The record's `v` and `chain`, read from its bytes or from a copy proven equal to them; absent: not checked. */
  fields?: { v?: unknown; chain?: unknown };
  /**
   * The canonical bytes as strict UTF-8 with a byte order mark kept, when the caller decoded them
   * already: a large bundle's records were otherwise decoded twice.
   */
  text?: string;
}

export type RecordProblem =
  | { code: 'HASH_MISMATCH'; computed: Buffer }
  | { code: 'CHAIN_LINK_BROKEN'; expected: Buffer }
  | { code: 'NOT_CANONICAL'; problem: string }
  | { code: 'UNKNOWN_FORMAT'; version: unknown; expected: typeof RECORD_FORMAT_VERSION }
  | { code: 'WRONG_CHAIN'; chain: unknown };

/**
 * What every copy of a record must satisfy, wherever it is read (the ledger, a bundle): one
 * implementation, so the chain verifier and the bundle verifier cannot drift apart on what a good
 * record is. Returns every problem, in this order; each verifier decides which it names first.
 */
export function checkRecord(record: ChainedRecord, context: RecordContext): RecordProblem[] {
  return inspectRecord(record, context).problems;
}

/**
 * checkRecord, and where the members a verifier reads lie in the bytes (found by the same pass that
 * proves them canonical; to be read only when no problem is NOT_CANONICAL).
 */
export function inspectRecord(
  record: ChainedRecord,
  context: RecordContext,
): { problems: RecordProblem[]; members: RecordMembers } {
  const problems: RecordProblem[] = [];
  const computed = chainHash(record.prevHash, record.canonical);
  if (!computed.equals(record.hash)) problems.push({ code: 'HASH_MISMATCH', computed });
  if (context.previousHash && !view(context.previousHash).equals(record.prevHash)) {
    problems.push({ code: 'CHAIN_LINK_BROKEN', expected: Buffer.from(context.previousHash) });
  }
  // Bytes that are not canonical can read two ways (a key given twice is the last to JSON.parse and
  // jsonb, the first to other parsers), so a copy can agree with them while an auditor reads another record.
  const scan = scanCanonical(record.canonical, context.text);
  if (scan.problem) problems.push({ code: 'NOT_CANONICAL', problem: scan.problem });
  if (context.fields) problems.push(...formatProblems(context.fields, context.chainId));
  return { problems, members: scan.members };
}

/** The record format fields: a version this verifier knows, and the chain it is read as part of. */
export function formatProblems(fields: { v?: unknown; chain?: unknown }, chainId: unknown): RecordProblem[] {
  const problems: RecordProblem[] = [];
  if (fields.v !== RECORD_FORMAT_VERSION)
    problems.push({ code: 'UNKNOWN_FORMAT', version: fields.v, expected: RECORD_FORMAT_VERSION });
  if (fields.chain !== chainId) problems.push({ code: 'WRONG_CHAIN', chain: fields.chain });
  return problems;
}

/** A Buffer over the same bytes, not a copy: this runs once per record of a whole ledger. */
function view(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
