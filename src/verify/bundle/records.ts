import { GENESIS_HASH } from '../hash.js';
import { checkRecord } from '../record-check.js';
import type { RecordProblem } from '../record-check.js';
import { decodeBase64Strict } from '../base64.js';
import type { ParsedRecord, Report } from './parse.js';
import { HEX32, isObject, isSeq } from './parse.js';

const RECORD_MEMBERS = ['seq', 'chain', 'canonical', 'prevHash', 'hash'];
const RECORD_MEMBER_SET = new Set(RECORD_MEMBERS);
// For the whole file: a byte order mark is kept, so that it fails line 1 as any stray character would.
const UTF8_AS_IS = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads records.jsonl line by line and checks each record as the ledger's chain verifier does
 * (the shared checkRecord), in the bundle's own words: every problem is reported, not only the first.
 */
export function parseRecords(data: Buffer, chain: string | null, out: ParsedRecord[], report: Report): void {
  if (data.length === 0 || data[data.length - 1] !== NEWLINE)
    return report('RECORD_MALFORMED', 'is empty or does not end with a newline');
  const lines = linesOf(data);
  if (!lines) return report('RECORD_MALFORMED', 'is not valid UTF-8');
  let previous: { seq: number; hash: Buffer } | null = null;
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return report('RECORD_MALFORMED', `${where} is not JSON`);
    }
    if (!isObject(value) || !hasExactlyRecordMembers(value))
      return report('RECORD_MALFORMED', `${where} does not have exactly the members ${RECORD_MEMBERS.join(', ')}`);
    const seq = isSeq(value.seq) ? value.seq : undefined;
    if (seq === undefined) return report('RECORD_MALFORMED', `${where}: seq is not a positive integer`);
    if (previous && seq <= previous.seq)
      report('RECORD_OUT_OF_ORDER', `seq ${seq} follows ${previous.seq}: records are in ascending seq, each once`, seq);
    if (chain !== null && value.chain !== chain)
      report('WRONG_CHAIN', `chain ${JSON.stringify(value.chain)} is not the bundle's chain ${chain}`, seq);
    const canonical = typeof value.canonical === 'string' ? decodeBase64Strict(value.canonical) : null;
    const prevHash =
      typeof value.prevHash === 'string' && HEX32.test(value.prevHash) ? Buffer.from(value.prevHash, 'hex') : null;
    const hash = typeof value.hash === 'string' && HEX32.test(value.hash) ? Buffer.from(value.hash, 'hex') : null;
    if (!canonical || !prevHash || !hash)
      return report(
        'RECORD_MALFORMED',
        'canonical is not standard base64, or prevHash or hash is not 64 lower-case hex digits',
        seq,
      );
    const text = strictText(canonical);
    let record: Record<string, unknown> | null = null;
    try {
      // As the bundle's other JSON is read (parse.ts UTF8): a leading byte order mark is dropped.
      const parsed: unknown = text === null ? null : JSON.parse(text.charCodeAt(0) === BOM ? text.slice(1) : text);
      if (isObject(parsed)) record = parsed;
    } catch {
      record = null;
    }
    // Record 1 links to genesis; any other links to its predecessor, when the bundle holds that one.
    const previousHash = seq === 1 ? GENESIS_HASH : previous && previous.seq === seq - 1 ? previous.hash : null;
    const context = {
      previousHash,
      chainId: value.chain,
      ...(record ? { fields: record } : {}),
      ...(text === null ? {} : { text }),
    };
    for (const problem of checkRecord({ canonical, prevHash, hash }, context)) {
      if (problem.code === 'NOT_CANONICAL' && !record) continue;
      report(problem.code, describeRecordProblem(problem, seq, value.chain), seq);
    }
    if (!record) report('RECORD_MALFORMED', 'the canonical bytes are not a UTF-8 JSON object', seq);
    out.push({ seq, canonical, hash, record });
    previous = { seq, hash };
  });
}

const NEWLINE = 0x0a;
const BOM = 0xfeff;

/** Five distinct keys, all of them record members: exactly the members, with nothing sorted or joined. */
function hasExactlyRecordMembers(value: object): boolean {
  const keys = Object.keys(value);
  return keys.length === RECORD_MEMBERS.length && keys.every((key) => RECORD_MEMBER_SET.has(key));
}

/** The bytes as strict UTF-8 with a byte order mark kept, or null when they are not UTF-8. */
function strictText(bytes: Buffer): string | null {
  try {
    return UTF8_AS_IS.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * The lines of a file that ends with a newline, without their newlines; null when it is not UTF-8.
 * A file Writ wrote is ASCII (base64, hex, numbers), and such a file is cut into one string a line:
 * decoding ten thousand records into one string first and splitting that took two to four times as
 * long (BENCHMARKS.md, P5). Any other file is decoded whole, as before.
 */
function linesOf(data: Buffer): string[] | null {
  const lines: string[] = [];
  for (let start = 0; start < data.length;) {
    const end = data.indexOf(NEWLINE, start);
    // Latin-1 maps each byte to one character: right for ASCII, and any other byte is found here.
    const line = data.toString('latin1', start, end);
    if (BEYOND_ASCII.test(line)) return decodedLines(data);
    lines.push(line);
    start = end + 1;
  }
  return lines;
}

const BEYOND_ASCII = /[^\x00-\x7f]/;

function decodedLines(data: Buffer): string[] | null {
  return strictText(data)?.slice(0, -1).split('\n') ?? null;
}

function describeRecordProblem(problem: RecordProblem, seq: number, lineChain: unknown): string {
  switch (problem.code) {
    case 'HASH_MISMATCH':
      return 'hash_mismatch: SHA-256(prevHash || canonical) is not hash';
    case 'CHAIN_LINK_BROKEN':
      return seq === 1
        ? "link_broken: record 1's prevHash is not 32 zero bytes"
        : `link_broken: prevHash is not the hash of record ${seq - 1}`;
    case 'NOT_CANONICAL':
      return `not_canonical: the bytes are not the RFC 8785 serialisation of their JSON: ${problem.problem}`;
    case 'UNKNOWN_FORMAT':
      return `unknown_format: v is ${JSON.stringify(problem.version)}, not ${problem.expected}`;
    case 'WRONG_CHAIN':
      return `the record says chain ${JSON.stringify(problem.chain)}, the line ${JSON.stringify(lineChain)}`;
  }
}
