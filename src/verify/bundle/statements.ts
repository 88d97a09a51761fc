import { sha256Hex } from '../hash.js';
import { decodeBase64Strict } from '../base64.js';
import { verifyEd25519Later } from '../ed25519-later.js';
import type { VerifierKey } from '../note.js';
import type { BundleFindingCode } from './findings.js';
import {
  DSSE_PAYLOAD_TYPE,
  PREDICATE_TYPE,
  RECORDS_JSONL,
  STATEMENT_TYPE,
  dssePae,
  statementFileName,
} from './format.js';
import type { ParsedRecord, Report } from './parse.js';
import { isObject, parseJson } from './parse.js';

/** A check whose answer comes later: its finding is reported, in the place it was asked, if `holds` resolves false. */
export type ReportLater = (holds: Promise<boolean>, code: BundleFindingCode, problem: string) => void;

/**
 * Says what is wrong with a statement's operationId where it stands (its file name, its line), in
 * words that follow "the statement's operationId <id>", or null when it belongs there.
 */
export type BelongsHere = (operationId: unknown) => string | null;

/**
 * One operation's DSSE-signed in-toto statement: signed by the key, and naming exactly its records.
 * `records`: the bundle's records by operation id (recordsByOperation), so that a bundle of many
 * operations is checked in time linear in its records. Signatures are checked off the main
 * thread (`later`) while the rest of the bundle is read.
 */
export function checkStatement(
  data: Buffer,
  belongsHere: BelongsHere,
  key: VerifierKey | null,
  chain: string | null,
  records: ReadonlyMap<string, ParsedRecord[]>,
  report: Report,
  later: ReportLater,
): void {
  const envelope = parseEnvelope(data, report);
  if (!envelope) return;
  if (key) checkEnvelopeSignatures(envelope.signatures, envelope.payload, key, report, later);
  const statement = parseStatement(envelope.payload, report);
  if (!statement) return;
  const operationId = statement.predicate.operationId;
  const misplaced = belongsHere(operationId);
  if (misplaced !== null || typeof operationId !== 'string')
    return report(
      'STATEMENT_OPERATION_MISMATCH',
      `the statement's operationId ${JSON.stringify(operationId)} ${misplaced ?? 'is not a string'}`,
    );
  checkSubjects(statement.subject, operationId, chain, records, report);
}

/** Format 1 and 2: the statement of an operation is the file its id names. */
export function namedFile(name: string): BelongsHere {
  return (operationId) =>
    typeof operationId === 'string' && statementFileName(operationId) === name ? null : 'does not match the file name';
}

/**
 * Format 3's statements.intoto.jsonl: a statement a line, each for an operation of the records and
 * no operation twice, and every operation with one. `check` is given the words that name a line's
 * place ("line 3: "), to begin its problems with.
 */
export function checkStatementLines(
  data: Buffer,
  operations: readonly string[],
  check: (line: Buffer, belongsHere: BelongsHere, where: string) => void,
  report: Report,
): void {
  const lineOf = new Map<string, number>();
  const expected = new Set(operations);
  if (data.length && data[data.length - 1] !== NEWLINE) report('STATEMENT_MALFORMED', 'does not end with a newline');
  let start = 0;
  for (let number = 1; start < data.length; number++) {
    const end = data.indexOf(NEWLINE, start);
    const line = data.subarray(start, end < 0 ? data.length : end);
    start = end < 0 ? data.length : end + 1;
    check(line, belongsOnLine(number, expected, lineOf), `line ${number}: `);
  }
  for (const operationId of operations)
    if (!lineOf.has(operationId))
      report('STATEMENT_MISSING', `operation ${operationId} has records but no signed statement`);
}

function belongsOnLine(number: number, expected: ReadonlySet<string>, lineOf: Map<string, number>): BelongsHere {
  return (operationId) => {
    if (typeof operationId !== 'string' || !expected.has(operationId))
      return `is not an operation of the records in ${RECORDS_JSONL}`;
    const before = lineOf.get(operationId);
    if (before !== undefined) return `already has its statement on line ${before}`;
    lineOf.set(operationId, number);
    return null;
  };
}

const NEWLINE = 0x0a;

/** The DSSE envelope's signatures and its decoded payload, or null (reported) when it is not one. */
function parseEnvelope(data: Buffer, report: Report): { signatures: unknown[]; payload: Buffer } | null {
  const envelope = parseJson(data, (problem) => report('STATEMENT_MALFORMED', problem));
  if (envelope === undefined) return null;
  if (
    !isObject(envelope) ||
    envelope.payloadType !== DSSE_PAYLOAD_TYPE ||
    typeof envelope.payload !== 'string' ||
    !Array.isArray(envelope.signatures)
  ) {
    report('STATEMENT_MALFORMED', `is not a DSSE envelope with payloadType ${DSSE_PAYLOAD_TYPE}`);
    return null;
  }
  const payload = decodeBase64Strict(envelope.payload);
  if (!payload) {
    report('STATEMENT_MALFORMED', 'the payload is not standard base64');
    return null;
  }
  return { signatures: envelope.signatures as unknown[], payload };
}

/** At least one signature by the key, and every signature by it verifies over the payload's PAE. */
function checkEnvelopeSignatures(
  signatures: unknown[],
  payload: Buffer,
  key: VerifierKey,
  report: Report,
  later: ReportLater,
): void {
  const keyid = key.keyId.toString('hex');
  const mine = signatures.filter((s): s is { keyid: string; sig: unknown } => isObject(s) && s.keyid === keyid);
  if (!mine.length) report('STATEMENT_SIGNATURE_MISSING', `no signature with keyid ${keyid}`);
  const pae = dssePae(DSSE_PAYLOAD_TYPE, payload);
  for (const s of mine) {
    const sig = typeof s.sig === 'string' ? decodeBase64Strict(s.sig) : null;
    const problem = `the DSSE signature by ${keyid} does not verify`;
    if (sig === null || sig.length !== 64) report('STATEMENT_SIGNATURE_INVALID', problem);
    else later(verifyEd25519Later(pae, key.publicKey, sig), 'STATEMENT_SIGNATURE_INVALID', problem);
  }
}

/** The payload as an in-toto statement of Writ's predicate type, or null (reported) when it is not one. */
function parseStatement(
  payload: Buffer,
  report: Report,
): { subject: unknown[]; predicate: Record<string, unknown> } | null {
  const statement = parseJson(payload, (problem) => report('STATEMENT_MALFORMED', `the payload ${problem}`));
  if (
    !isObject(statement) ||
    statement._type !== STATEMENT_TYPE ||
    statement.predicateType !== PREDICATE_TYPE ||
    !Array.isArray(statement.subject) ||
    !isObject(statement.predicate)
  ) {
    report(
      'STATEMENT_MALFORMED',
      `the payload is not an in-toto ${STATEMENT_TYPE} with predicateType ${PREDICATE_TYPE}`,
    );
    return null;
  }
  return { subject: statement.subject as unknown[], predicate: statement.predicate };
}

/** The statement's subjects are exactly the operation's records, each with its canonical bytes' SHA-256. */
function checkSubjects(
  subjects: unknown[],
  operationId: string,
  chain: string | null,
  records: ReadonlyMap<string, ParsedRecord[]>,
  report: Report,
): void {
  const expected = new Map(
    (records.get(operationId) ?? []).map((r) => [`${chain}/${r.seq}`, { seq: r.seq, digest: sha256Hex(r.canonical) }]),
  );
  const seen = new Set<string>();
  for (const subject of subjects) {
    const subjectName = isObject(subject) && typeof subject.name === 'string' ? subject.name : '';
    const digest = isObject(subject) && isObject(subject.digest) ? subject.digest.sha256 : undefined;
    const record = expected.get(subjectName);
    if (!record) {
      report(
        'STATEMENT_SUBJECT_UNKNOWN',
        `subject ${JSON.stringify(subjectName)} is not a record of operation ${operationId} in ${RECORDS_JSONL}`,
      );
      continue;
    }
    seen.add(subjectName);
    if (digest !== record.digest)
      report(
        'STATEMENT_DIGEST_MISMATCH',
        `subject ${subjectName}'s sha256 is not the SHA-256 of the record's canonical bytes`,
        record.seq,
      );
  }
  for (const [subjectName, record] of expected)
    if (!seen.has(subjectName))
      report(
        'STATEMENT_SUBJECT_MISSING',
        `record ${record.seq} of operation ${operationId} is not a subject of the statement`,
        record.seq,
      );
}

/** The records of each operation, in bundle order. */
export function recordsByOperation(records: readonly ParsedRecord[]): Map<string, ParsedRecord[]> {
  const byOperation = new Map<string, ParsedRecord[]>();
  for (const record of records) {
    const id = record.record?.operationId;
    if (typeof id !== 'string') continue;
    const own = byOperation.get(id);
    if (own) own.push(record);
    else byOperation.set(id, [record]);
  }
  return byOperation;
}
