import { verify as verifyEd25519 } from 'node:crypto';
import { checkpointProblemCode } from '../audit.js';
import { GENESIS_HASH } from '../hash.js';
import { LifecycleChecker } from '../lifecycle-check.js';
import { checkRecord } from '../record-check.js';
import type { RecordProblem } from '../record-check.js';
import { decodeBase64Strict } from '../base64.js';
import { verifyCheckpoint } from '../checkpoint.js';
import type { Checkpoint } from '../checkpoint.js';
import { leafHash, verifyInclusion } from '../merkle.js';
import { parseVerifierKey, verifyNote } from '../note.js';
import type { NoteFailure, VerifierKey } from '../note.js';
import type { BundleFindingCode } from './findings.js';
import type { Manifest } from './format.js';
import { checkGovernance } from './governance.js';
import type { DecisionSignatureSummary, PinnedApproverKeys } from './decisions.js';
import { checkDecisionSignatures } from './decisions.js';
import {
  BUNDLE_FORMAT, CHECKPOINT, DSSE_PAYLOAD_TYPE, KEY_PUB, MANIFEST, MANIFEST_SIG, PREDICATE_TYPE, PROOFS, RECORDS_JSONL, STATEMENT_TYPE,
  dssePae, isStatementFileName, manifestNoteText, sha256Hex, statementFileName,
} from './format.js';

/**
 * The offline verifier of an evidence bundle: pure and synchronous, given the bundle's files as
 * bytes (the CLI does the reading). It never throws on anything in the bundle; every problem is a
 * finding naming the file and, where there is one, the record.
 */
export interface BundleFinding {
  file: string;
  code: BundleFindingCode;
  seq?: number;
  problem: string;
}

export interface BundleVerdict {
  ok: boolean;
  findings: BundleFinding[];
  warnings: string[];
  /** True when signatures were checked with the bundle's own key.pub. */
  selfKeyed: boolean;
  chain: string | null;
  records: number;
  operations: string[];
  checkpoint: Checkpoint | null;
  /** Signed approvals, rejections and resolutions, and whether they were checked against pinned approver keys. */
  decisionSignatures: DecisionSignatureSummary;
}

export interface VerifyBundleOptions {
  /** The key the auditor trusts; without it the bundle's key.pub is used and only internal consistency is proven. */
  verifierKey?: VerifierKey;
  /** Approver keys the auditor pinned: every signed decision is checked against them. */
  approverKeys?: PinnedApproverKeys;
}

type Report = (code: BundleFindingCode, problem: string, seq?: number) => void;

interface ParsedRecord {
  seq: number;
  canonical: Buffer;
  hash: Buffer;
  record: Record<string, unknown> | null;
}

const HEX32 = /^[0-9a-f]{64}$/;

const MANIFEST_SIGNATURE: Record<NoteFailure, BundleFindingCode> = {
  MALFORMED: 'MANIFEST_SIGNATURE_MALFORMED',
  UNKNOWN_KEY: 'MANIFEST_UNKNOWN_KEY',
  BAD_SIGNATURE: 'MANIFEST_SIGNATURE_INVALID',
};

function manifestSignatureCode(failure: NoteFailure): BundleFindingCode {
  return MANIFEST_SIGNATURE[failure];
}

function describeRecordProblem(problem: RecordProblem, seq: number, lineChain: unknown): string {
  switch (problem.code) {
    case 'HASH_MISMATCH':
      return 'hash_mismatch: SHA-256(prevHash || canonical) is not hash';
    case 'CHAIN_LINK_BROKEN':
      return seq === 1 ? 'link_broken: record 1\'s prevHash is not 32 zero bytes' : `link_broken: prevHash is not the hash of record ${seq - 1}`;
    case 'NOT_CANONICAL':
      return `not_canonical: the bytes are not the RFC 8785 serialisation of their JSON: ${problem.problem}`;
    case 'UNKNOWN_FORMAT':
      return `unknown_format: v is ${JSON.stringify(problem.version)}, not ${problem.expected}`;
    case 'WRONG_CHAIN':
      return `the record says chain ${JSON.stringify(problem.chain)}, the line ${JSON.stringify(lineChain)}`;
  }
}
const RECORD_MEMBERS = ['seq', 'chain', 'canonical', 'prevHash', 'hash'];

export function verifyBundle(files: ReadonlyMap<string, Uint8Array>, options: VerifyBundleOptions = {}): BundleVerdict {
  const findings: BundleFinding[] = [];
  const warnings: string[] = [];
  const bad = (file: string, code: BundleFindingCode, problem: string, seq?: number) => findings.push({ file, code, problem, ...(seq === undefined ? {} : { seq }) });
  const bytes = (name: string): Buffer | null => {
    const data = files.get(name);
    if (data === undefined) {
      bad(name, 'FILE_MISSING', 'missing');
      return null;
    }
    return Buffer.from(data);
  };

  // The key: the auditor's own, else the bundle's (which proves only that the bundle agrees with itself).
  let key: VerifierKey | null = options.verifierKey ?? null;
  const keyFile = files.get(KEY_PUB);
  let bundleKey: VerifierKey | null = null;
  if (keyFile !== undefined) {
    const text = Buffer.from(keyFile).toString('utf8');
    try {
      if (!text.endsWith('\n') || text.slice(0, -1).includes('\n')) throw new Error('it is not one line ending in a newline');
      bundleKey = parseVerifierKey(text.slice(0, -1));
    } catch (error) {
      bad(KEY_PUB, 'KEY_INVALID', `not a verifier key: ${(error as Error).message}`);
    }
  }
  const selfKeyed = !key;
  if (!key) {
    if (keyFile === undefined) bad(KEY_PUB, 'KEY_MISSING', 'missing, and no --verifier-key was given: no signature can be checked');
    key = bundleKey;
    if (key) warnings.push('no verifier key given: signatures were checked with the bundle\'s own key.pub, which proves only that the bundle is internally consistent, not who made it (anyone can sign a forged bundle with a key of their own)');
  } else if (bundleKey && !bundleKey.keyId.equals(key.keyId)) {
    warnings.push(`the bundle's key.pub (${bundleKey.name}+${bundleKey.keyId.toString('hex')}) is not the key given (${key.name}+${key.keyId.toString('hex')})`);
  }

  // The manifest, its signature, and every file it lists.
  let manifest: Manifest | null = null;
  const manifestBytes = bytes(MANIFEST);
  const sigBytes = bytes(MANIFEST_SIG);
  if (manifestBytes && sigBytes && key) {
    const verdict = verifyNote(sigBytes, key);
    if (!verdict.ok) bad(MANIFEST_SIG, manifestSignatureCode(verdict.code), `${verdict.code}: ${verdict.reason}`);
    else if (verdict.note.text !== manifestNoteText(manifestBytes)) bad(MANIFEST, 'MANIFEST_DIGEST_MISMATCH', `its SHA-256 ${sha256Hex(manifestBytes)} is not the one ${MANIFEST_SIG} signs`);
  }
  if (manifestBytes) {
    manifest = parseManifest(manifestBytes, (problem) => bad(MANIFEST, 'MANIFEST_INVALID', problem));
  }
  if (manifest) {
    const listed = new Set<string>();
    for (const entry of manifest.files) {
      listed.add(entry.name);
      const data = files.get(entry.name);
      if (data === undefined) bad(entry.name, 'FILE_MISSING', 'listed in the manifest but missing');
      else if (data.length !== entry.size || sha256Hex(data) !== entry.sha256) bad(entry.name, 'FILE_DIGEST_MISMATCH', `its SHA-256 ${sha256Hex(data)} (${data.length} bytes) is not the manifest's ${entry.sha256} (${entry.size} bytes)`);
    }
    for (const name of files.keys()) {
      if (name !== MANIFEST && name !== MANIFEST_SIG && !listed.has(name)) bad(name, 'FILE_UNLISTED', 'not listed in the manifest');
    }
    for (const name of [RECORDS_JSONL, PROOFS, CHECKPOINT, KEY_PUB]) if (!listed.has(name)) bad(MANIFEST, 'MANIFEST_INCOMPLETE', `does not list ${name}`);
  }

  // The checkpoint.
  let checkpoint: Checkpoint | null = null;
  const checkpointBytes = bytes(CHECKPOINT);
  if (checkpointBytes && key) {
    const verdict = verifyCheckpoint(checkpointBytes, key, manifest ? { origin: manifest.origin } : {});
    if (!verdict.ok) bad(CHECKPOINT, checkpointProblemCode(verdict.code), `${verdict.code}: ${verdict.reason}`);
    else checkpoint = verdict.checkpoint;
  }
  const chain = manifest?.chain ?? null;
  if (checkpoint && chain !== null && !checkpoint.origin.endsWith(`/${chain}`)) bad(CHECKPOINT, 'CHECKPOINT_WRONG_ORIGIN', `its origin ${checkpoint.origin} is not of chain ${chain}`);

  // The records and their chain links.
  const records: ParsedRecord[] = [];
  const recordBytes = bytes(RECORDS_JSONL);
  if (recordBytes) parseRecords(recordBytes, chain, records, (code, problem, seq) => bad(RECORDS_JSONL, code, problem, seq));

  // Each closed operation's recorded path, against the lifecycle table and its own records' states.
  const lifecycle = new LifecycleChecker();
  for (const r of records) if (r.record) lifecycle.push({ seq: r.seq, operationId: r.record.operationId, type: r.record.type, state: r.record.state, payload: r.record.payload });
  for (const f of lifecycle.findings) bad(RECORDS_JSONL, f.code, `illegal_path: operation ${f.operationId} closed on a path the lifecycle does not allow (${f.step}): ${f.detail}`, f.seq);

  // The inclusion proofs.
  const proofBytes = bytes(PROOFS);
  if (proofBytes) checkProofs(proofBytes, chain, checkpoint, records, (code, problem, seq) => bad(PROOFS, code, problem, seq));

  // The signed statements, one per operation.
  const operations = [...new Set(records.map((r) => r.record?.operationId).filter((id): id is string => typeof id === 'string'))];
  for (const operationId of operations) {
    const name = statementFileName(operationId);
    if (!files.has(name)) bad(name, 'STATEMENT_MISSING', `missing: operation ${operationId} has records but no signed statement`);
  }
  for (const name of [...files.keys()].filter(isStatementFileName).sort()) {
    checkStatement(name, Buffer.from(files.get(name)!), key, chain, records, (code, problem, seq) => bad(name, code, problem, seq));
  }

  // The governance each decision names: in the bundle, on the record, and what its hash says.
  checkGovernance(files, records, bad, (message) => warnings.push(message));

  // Signed decisions: the approver's signature, not the worker's word that it verified.
  const decisionSignatures = checkDecisionSignatures(records, options.approverKeys, (code, problem, seq) => bad(RECORDS_JSONL, code, problem, seq), (warning) => warnings.push(warning));

  return { ok: findings.length === 0, findings, warnings, selfKeyed: selfKeyed && key !== null, chain, records: records.length, operations, checkpoint, decisionSignatures };
}

function parseJson(data: Buffer, report: (problem: string) => void): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    report('is not valid UTF-8');
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    report(`is not JSON: ${(error as Error).message}`);
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

function parseManifest(data: Buffer, report: (problem: string) => void): Manifest | null {
  const value = parseJson(data, report);
  if (value === undefined) return null;
  if (!isObject(value) || value.format !== BUNDLE_FORMAT || typeof value.chain !== 'string' || typeof value.origin !== 'string' || !Array.isArray(value.files)) {
    report(`is not a ${BUNDLE_FORMAT} manifest (format, chain, origin, files)`);
    return null;
  }
  const names = new Set<string>();
  for (const entry of value.files as unknown[]) {
    if (!isObject(entry) || typeof entry.name !== 'string' || typeof entry.sha256 !== 'string' || !HEX32.test(entry.sha256) || typeof entry.size !== 'number') {
      report('has a file entry without name, sha256 (64 hex digits) and size');
      return null;
    }
    if (names.has(entry.name) || entry.name === MANIFEST || entry.name === MANIFEST_SIG || entry.name.includes('/')) {
      report(`lists ${JSON.stringify(entry.name)} twice, or a name it may not list`);
      return null;
    }
    names.add(entry.name);
  }
  return value as unknown as Manifest;
}

function parseRecords(data: Buffer, chain: string | null, out: ParsedRecord[], report: Report): void {
  const text = data.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(data)) return report('RECORD_MALFORMED', 'is not valid UTF-8');
  if (text === '' || !text.endsWith('\n')) return report('RECORD_MALFORMED', 'is empty or does not end with a newline');
  let previous: { seq: number; hash: Buffer } | null = null;
  text.slice(0, -1).split('\n').forEach((line, i) => {
    const where = `line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return report('RECORD_MALFORMED', `${where} is not JSON`);
    }
    if (!isObject(value) || Object.keys(value).sort().join() !== [...RECORD_MEMBERS].sort().join()) return report('RECORD_MALFORMED', `${where} does not have exactly the members ${RECORD_MEMBERS.join(', ')}`);
    const seq = isSeq(value.seq) ? value.seq : undefined;
    if (seq === undefined) return report('RECORD_MALFORMED', `${where}: seq is not a positive integer`);
    if (previous && seq <= previous.seq) report('RECORD_OUT_OF_ORDER', `seq ${seq} follows ${previous.seq}: records are in ascending seq, each once`, seq);
    if (chain !== null && value.chain !== chain) report('WRONG_CHAIN', `chain ${JSON.stringify(value.chain)} is not the bundle's chain ${chain}`, seq);
    const canonical = typeof value.canonical === 'string' ? decodeBase64Strict(value.canonical) : null;
    const prevHash = typeof value.prevHash === 'string' && HEX32.test(value.prevHash) ? Buffer.from(value.prevHash, 'hex') : null;
    const hash = typeof value.hash === 'string' && HEX32.test(value.hash) ? Buffer.from(value.hash, 'hex') : null;
    if (!canonical || !prevHash || !hash) return report('RECORD_MALFORMED', 'canonical is not standard base64, or prevHash or hash is not 64 lower-case hex digits', seq);
    let record: Record<string, unknown> | null = null;
    try {
      const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(canonical));
      if (isObject(parsed)) record = parsed;
    } catch {
      record = null;
    }
    // Record 1 links to genesis; any other links to its predecessor, when the bundle holds that one.
    const previousHash = seq === 1 ? GENESIS_HASH : previous && previous.seq === seq - 1 ? previous.hash : null;
    const context = { previousHash, chainId: value.chain, ...(record ? { fields: record } : {}) };
    for (const problem of checkRecord({ canonical, prevHash, hash }, context)) {
      if (problem.code === 'NOT_CANONICAL' && !record) continue;
      report(problem.code, describeRecordProblem(problem, seq, value.chain), seq);
    }
    if (!record) report('RECORD_MALFORMED', 'the canonical bytes are not a UTF-8 JSON object', seq);
    out.push({ seq, canonical, hash, record });
    previous = { seq, hash };
  });
}

function checkProofs(data: Buffer, chain: string | null, checkpoint: Checkpoint | null, records: ParsedRecord[], report: Report): void {
  const value = parseJson(data, (problem) => report('PROOFS_MALFORMED', problem));
  if (value === undefined) return;
  if (!isObject(value) || !Array.isArray(value.proofs) || typeof value.treeSize !== 'number' || typeof value.root !== 'string') return report('PROOFS_MALFORMED', 'is not a proofs file (chain, treeSize, root, proofs)');
  if (chain !== null && value.chain !== chain) report('WRONG_CHAIN', `chain ${JSON.stringify(value.chain)} is not the bundle's chain ${chain}`);
  if (!checkpoint) return report('PROOFS_UNCHECKABLE', 'cannot be checked: there is no valid checkpoint');
  if (value.treeSize !== checkpoint.size) report('PROOFS_CHECKPOINT_MISMATCH', `treeSize ${value.treeSize} is not the checkpoint's size ${checkpoint.size}`);
  if (value.root !== checkpoint.root.toString('base64')) report('PROOFS_CHECKPOINT_MISMATCH', 'root is not the checkpoint\'s root');
  const proofs = value.proofs as unknown[];
  if (proofs.length !== records.length) report('PROOFS_INCOMPLETE', `has ${proofs.length} proofs for ${records.length} records`);
  records.forEach((record, i) => {
    const proof = proofs[i];
    if (!isObject(proof) || proof.seq !== record.seq || proof.leafIndex !== record.seq - 1 || !Array.isArray(proof.hashes)) {
      return report('PROOF_MALFORMED', `proof ${i + 1} is not for record ${record.seq} (seq, leafIndex = seq - 1, hashes)`, record.seq);
    }
    const hashes = (proof.hashes as unknown[]).map((h) => (typeof h === 'string' ? decodeBase64Strict(h) : null));
    if (hashes.some((h) => h === null || h.length !== 32)) return report('PROOF_MALFORMED', 'a proof hash is not standard base64 of 32 bytes', record.seq);
    if (record.seq > checkpoint.size) return report('RECORD_BEYOND_CHECKPOINT', `record ${record.seq} is beyond the checkpoint's ${checkpoint.size} records`, record.seq);
    if (!verifyInclusion(leafHash(record.canonical), record.seq - 1, checkpoint.size, hashes as Buffer[], checkpoint.root)) {
      report('INCLUSION_PROOF_INVALID', `the inclusion proof does not lead from the record's leaf hash to the checkpoint's root at size ${checkpoint.size}`, record.seq);
    }
  });
}

function checkStatement(name: string, data: Buffer, key: VerifierKey | null, chain: string | null, records: ParsedRecord[], report: Report): void {
  const envelope = parseJson(data, (problem) => report('STATEMENT_MALFORMED', problem));
  if (envelope === undefined) return;
  if (!isObject(envelope) || envelope.payloadType !== DSSE_PAYLOAD_TYPE || typeof envelope.payload !== 'string' || !Array.isArray(envelope.signatures)) {
    return report('STATEMENT_MALFORMED', `is not a DSSE envelope with payloadType ${DSSE_PAYLOAD_TYPE}`);
  }
  const payload = decodeBase64Strict(envelope.payload);
  if (!payload) return report('STATEMENT_MALFORMED', 'the payload is not standard base64');
  if (key) {
    const keyid = key.keyId.toString('hex');
    const mine = (envelope.signatures as unknown[]).filter((s): s is { keyid: string; sig: unknown } => isObject(s) && s.keyid === keyid);
    if (!mine.length) report('STATEMENT_SIGNATURE_MISSING', `no signature with keyid ${keyid}`);
    const pae = dssePae(DSSE_PAYLOAD_TYPE, payload);
    for (const s of mine) {
      const sig = typeof s.sig === 'string' ? decodeBase64Strict(s.sig) : null;
      let good = false;
      try {
        good = sig !== null && sig.length === 64 && verifyEd25519(null, pae, key.publicKey, sig);
      } catch {
        good = false;
      }
      if (!good) report('STATEMENT_SIGNATURE_INVALID', `the DSSE signature by ${keyid} does not verify`);
    }
  }
  const statement = parseJson(payload, (problem) => report('STATEMENT_MALFORMED', `the payload ${problem}`));
  if (!isObject(statement) || statement._type !== STATEMENT_TYPE || statement.predicateType !== PREDICATE_TYPE || !Array.isArray(statement.subject) || !isObject(statement.predicate)) {
    return report('STATEMENT_MALFORMED', `the payload is not an in-toto ${STATEMENT_TYPE} with predicateType ${PREDICATE_TYPE}`);
  }
  const operationId = statement.predicate.operationId;
  if (typeof operationId !== 'string' || statementFileName(operationId) !== name) return report('STATEMENT_OPERATION_MISMATCH', `the statement's operationId ${JSON.stringify(operationId)} does not match the file name`);
  const expected = new Map(records.filter((r) => r.record?.operationId === operationId).map((r) => [`${chain}/${r.seq}`, { seq: r.seq, digest: sha256Hex(r.canonical) }]));
  const seen = new Set<string>();
  for (const subject of statement.subject as unknown[]) {
    const subjectName = isObject(subject) && typeof subject.name === 'string' ? subject.name : '';
    const digest = isObject(subject) && isObject(subject.digest) ? subject.digest.sha256 : undefined;
    const record = expected.get(subjectName);
    if (!record) {
      report('STATEMENT_SUBJECT_UNKNOWN', `subject ${JSON.stringify(subjectName)} is not a record of operation ${operationId} in ${RECORDS_JSONL}`);
      continue;
    }
    seen.add(subjectName);
    if (digest !== record.digest) report('STATEMENT_DIGEST_MISMATCH', `subject ${subjectName}'s sha256 is not the SHA-256 of the record's canonical bytes`, record.seq);
  }
  for (const [subjectName, record] of expected) if (!seen.has(subjectName)) report('STATEMENT_SUBJECT_MISSING', `record ${record.seq} of operation ${operationId} is not a subject of the statement`, record.seq);
}
export type { BundleFindingCode } from './findings.js';
