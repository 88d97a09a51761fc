import { checkpointProblemCode } from '../audit.js';
import { LifecycleChecker } from '../lifecycle-check.js';
import { verifyCheckpoint } from '../checkpoint.js';
import type { Checkpoint } from '../checkpoint.js';
import { parseVerifierKey, verifyNote } from '../note.js';
import type { NoteFailure, VerifierKey } from '../note.js';
import type { BundleFindingCode } from './findings.js';
import type { Manifest } from './format.js';
import { checkGovernance } from './governance.js';
import type { DecisionSignatureSummary, PinnedApproverKeys } from './decisions.js';
import { checkDecisionSignatures } from './decisions.js';
import {
  BUNDLE_FORMAT,
  CHECKPOINT,
  KEY_PUB,
  MANIFEST,
  MANIFEST_SIG,
  PROOFS,
  RECORDS_JSONL,
  isStatementFileName,
  manifestNoteText,
  sha256Hex,
  statementFileName,
} from './format.js';
import type { ParsedRecord } from './parse.js';
import { HEX32, isObject, parseJson } from './parse.js';
import { checkProofs } from './proofs.js';
import { parseRecords } from './records.js';
import { checkStatement } from './statements.js';

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

const MANIFEST_SIGNATURE: Record<NoteFailure, BundleFindingCode> = {
  MALFORMED: 'MANIFEST_SIGNATURE_MALFORMED',
  UNKNOWN_KEY: 'MANIFEST_UNKNOWN_KEY',
  BAD_SIGNATURE: 'MANIFEST_SIGNATURE_INVALID',
};

type Bad = (file: string, code: BundleFindingCode, problem: string, seq?: number) => void;

function manifestSignatureCode(failure: NoteFailure): BundleFindingCode {
  return MANIFEST_SIGNATURE[failure];
}

export function verifyBundle(files: ReadonlyMap<string, Uint8Array>, options: VerifyBundleOptions = {}): BundleVerdict {
  const findings: BundleFinding[] = [];
  const warnings: string[] = [];
  const bad: Bad = (file, code, problem, seq) =>
    findings.push({ file, code, problem, ...(seq === undefined ? {} : { seq }) });
  const bytes = (name: string): Buffer | null => {
    const data = files.get(name);
    if (data === undefined) {
      bad(name, 'FILE_MISSING', 'missing');
      return null;
    }
    return Buffer.from(data);
  };

  const { key, selfKeyed } = chooseKey(files, options.verifierKey ?? null, bad, (message) => warnings.push(message));

  // The manifest, its signature, and every file it lists.
  let manifest: Manifest | null = null;
  const manifestBytes = bytes(MANIFEST);
  const sigBytes = bytes(MANIFEST_SIG);
  if (manifestBytes && sigBytes && key) {
    const verdict = verifyNote(sigBytes, key);
    if (!verdict.ok) bad(MANIFEST_SIG, manifestSignatureCode(verdict.code), `${verdict.code}: ${verdict.reason}`);
    else if (verdict.note.text !== manifestNoteText(manifestBytes))
      bad(
        MANIFEST,
        'MANIFEST_DIGEST_MISMATCH',
        `its SHA-256 ${sha256Hex(manifestBytes)} is not the one ${MANIFEST_SIG} signs`,
      );
  }
  if (manifestBytes) {
    manifest = parseManifest(manifestBytes, (problem) => bad(MANIFEST, 'MANIFEST_INVALID', problem));
  }
  if (manifest) checkListedFiles(manifest, files, bad);

  // The checkpoint.
  let checkpoint: Checkpoint | null = null;
  const checkpointBytes = bytes(CHECKPOINT);
  if (checkpointBytes && key) {
    const verdict = verifyCheckpoint(checkpointBytes, key, manifest ? { origin: manifest.origin } : {});
    if (!verdict.ok) bad(CHECKPOINT, checkpointProblemCode(verdict.code), `${verdict.code}: ${verdict.reason}`);
    else checkpoint = verdict.checkpoint;
  }
  const chain = manifest?.chain ?? null;
  if (checkpoint && chain !== null && !checkpoint.origin.endsWith(`/${chain}`))
    bad(CHECKPOINT, 'CHECKPOINT_WRONG_ORIGIN', `its origin ${checkpoint.origin} is not of chain ${chain}`);

  // The records and their chain links.
  const records: ParsedRecord[] = [];
  const recordBytes = bytes(RECORDS_JSONL);
  if (recordBytes)
    parseRecords(recordBytes, chain, records, (code, problem, seq) => bad(RECORDS_JSONL, code, problem, seq));

  // Each closed operation's recorded path, against the lifecycle table and its own records' states.
  const lifecycle = new LifecycleChecker();
  for (const r of records)
    if (r.record)
      lifecycle.push({
        seq: r.seq,
        operationId: r.record.operationId,
        type: r.record.type,
        state: r.record.state,
        payload: r.record.payload,
      });
  for (const f of lifecycle.findings)
    bad(
      RECORDS_JSONL,
      f.code,
      `illegal_path: operation ${f.operationId} closed on a path the lifecycle does not allow (${f.step}): ${f.detail}`,
      f.seq,
    );

  // The inclusion proofs.
  const proofBytes = bytes(PROOFS);
  if (proofBytes)
    checkProofs(proofBytes, chain, checkpoint, records, (code, problem, seq) => bad(PROOFS, code, problem, seq));

  // The signed statements, one per operation.
  const operations = [
    ...new Set(records.map((r) => r.record?.operationId).filter((id): id is string => typeof id === 'string')),
  ];
  for (const operationId of operations) {
    const name = statementFileName(operationId);
    if (!files.has(name))
      bad(name, 'STATEMENT_MISSING', `missing: operation ${operationId} has records but no signed statement`);
  }
  for (const name of [...files.keys()].filter(isStatementFileName).sort()) {
    checkStatement(name, Buffer.from(files.get(name)!), key, chain, records, (code, problem, seq) =>
      bad(name, code, problem, seq),
    );
  }

  // The governance each decision names: in the bundle, on the record, and what its hash says.
  checkGovernance(files, records, bad, (message) => warnings.push(message));

  // Signed decisions: the approver's signature, not the worker's word that it verified.
  const decisionSignatures = checkDecisionSignatures(
    records,
    options.approverKeys,
    (code, problem, seq) => bad(RECORDS_JSONL, code, problem, seq),
    (warning) => warnings.push(warning),
  );

  return {
    ok: findings.length === 0,
    findings,
    warnings,
    selfKeyed: selfKeyed && key !== null,
    chain,
    records: records.length,
    operations,
    checkpoint,
    decisionSignatures,
  };
}

/** The auditor's own key, else the bundle's, which proves only that the bundle agrees with itself. */
function chooseKey(
  files: ReadonlyMap<string, Uint8Array>,
  given: VerifierKey | null,
  bad: Bad,
  warn: (message: string) => void,
): { key: VerifierKey | null; selfKeyed: boolean } {
  let key = given;
  const keyFile = files.get(KEY_PUB);
  let bundleKey: VerifierKey | null = null;
  if (keyFile !== undefined) {
    const text = Buffer.from(keyFile).toString('utf8');
    try {
      if (!text.endsWith('\n') || text.slice(0, -1).includes('\n'))
        throw new Error('it is not one line ending in a newline');
      bundleKey = parseVerifierKey(text.slice(0, -1));
    } catch (error) {
      bad(KEY_PUB, 'KEY_INVALID', `not a verifier key: ${(error as Error).message}`);
    }
  }
  const selfKeyed = !key;
  if (!key) {
    if (keyFile === undefined)
      bad(KEY_PUB, 'KEY_MISSING', 'missing, and no --verifier-key was given: no signature can be checked');
    key = bundleKey;
    if (key)
      warn(
        "no verifier key given: signatures were checked with the bundle's own key.pub, which proves only that the bundle is internally consistent, not who made it (anyone can sign a forged bundle with a key of their own)",
      );
  } else if (bundleKey && !bundleKey.keyId.equals(key.keyId)) {
    warn(
      `the bundle's key.pub (${bundleKey.name}+${bundleKey.keyId.toString('hex')}) is not the key given (${key.name}+${key.keyId.toString('hex')})`,
    );
  }
  return { key, selfKeyed };
}

/** Every file the manifest lists is there with its digest, and nothing else is. */
function checkListedFiles(manifest: Manifest, files: ReadonlyMap<string, Uint8Array>, bad: Bad): void {
  const listed = new Set<string>();
  for (const entry of manifest.files) {
    listed.add(entry.name);
    const data = files.get(entry.name);
    if (data === undefined) bad(entry.name, 'FILE_MISSING', 'listed in the manifest but missing');
    else if (data.length !== entry.size || sha256Hex(data) !== entry.sha256)
      bad(
        entry.name,
        'FILE_DIGEST_MISMATCH',
        `its SHA-256 ${sha256Hex(data)} (${data.length} bytes) is not the manifest's ${entry.sha256} (${entry.size} bytes)`,
      );
  }
  for (const name of files.keys()) {
    if (name !== MANIFEST && name !== MANIFEST_SIG && !listed.has(name))
      bad(name, 'FILE_UNLISTED', 'not listed in the manifest');
  }
  for (const name of [RECORDS_JSONL, PROOFS, CHECKPOINT, KEY_PUB])
    if (!listed.has(name)) bad(MANIFEST, 'MANIFEST_INCOMPLETE', `does not list ${name}`);
}

function parseManifest(data: Buffer, report: (problem: string) => void): Manifest | null {
  const value = parseJson(data, report);
  if (value === undefined) return null;
  if (
    !isObject(value) ||
    value.format !== BUNDLE_FORMAT ||
    typeof value.chain !== 'string' ||
    typeof value.origin !== 'string' ||
    !Array.isArray(value.files)
  ) {
    report(`is not a ${BUNDLE_FORMAT} manifest (format, chain, origin, files)`);
    return null;
  }
  const names = new Set<string>();
  for (const entry of value.files as unknown[]) {
    if (
      !isObject(entry) ||
      typeof entry.name !== 'string' ||
      typeof entry.sha256 !== 'string' ||
      !HEX32.test(entry.sha256) ||
      typeof entry.size !== 'number'
    ) {
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

export type { BundleFindingCode } from './findings.js';
