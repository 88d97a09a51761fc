import type * as pkijs from 'pkijs';
import { checkpointProblemCode } from '../audit.js';
import { LifecycleChecker } from '../lifecycle-check.js';
import { verifyCheckpoint } from '../checkpoint.js';
import type { Checkpoint } from '../checkpoint.js';
import { parseVerifierKey } from '../note.js';
import type { VerifierKey } from '../note.js';
import type { BundleFindingCode } from './findings.js';
import type { ExportMembership, Manifest } from './format.js';
import { loneBundleFindings } from './export-set.js';
import { checkGovernance } from './governance.js';
import type { DecisionSignatureSummary, PinnedApproverKeys } from './decisions.js';
import { checkDecisionSignatures } from './decisions.js';
import {
  CHECKPOINT,
  KEY_PUB,
  PROOFS,
  RECORDS_JSONL,
  SEALED,
  STATEMENTS,
  BUNDLE_FORMAT,
  isStatementFileName,
  statementFileName,
  statementsInOneFile,
} from './format.js';
import { checkSealed } from './sealed.js';
import type { BundleSealed } from './sealed.js';
import type { Bad } from './manifest.js';
import { checkManifest } from './manifest.js';
import type { ParsedRecord } from './parse.js';
import { checkProofs } from './proofs.js';
import { parseRecords } from './records.js';
import type { BelongsHere } from './statements.js';
import { checkStatement, checkStatementLines, namedFile, recordsByOperation } from './statements.js';
import type { IdentityNotice, IdentitySummary } from './identity.js';
import { checkIdentities } from './identity.js';
import type { BundleTimestamps, VerifiedCheckpoint } from './timestamps.js';
import { checkBundleTimestamps } from './timestamps.js';

/**
 * The offline verifier of an evidence bundle: pure, given the bundle's files as bytes (the CLI
 * does the reading); asynchronous only because proofs of identity are JOSE objects, checked with
 * jose. It never throws on anything in the bundle; every problem is a finding naming the file and,
 * where there is one, the record.
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
  /** Proofs of identity re-checked, and identities that were only asserted. */
  identity: IdentitySummary;
  /** Not damage: what an auditor should know, such as "identity not verified" where policy allowed it. */
  notices: IdentityNotice[];
  /** The RFC 3161 tokens of timestamps.json, and the authority's time for the checkpoint. */
  timestamps: BundleTimestamps;
  /** Personal values the records commit to: how many, erased by export, disclosed and checked. */
  sealed: BundleSealed;
  /** The export that wrote the bundle, as its manifest names it (null in bundles that predate that). */
  export: ExportMembership | null;
}

export interface VerifyBundleOptions {
  /** The key the auditor trusts; without it the bundle's key.pub is used and only internal consistency is proven. */
  verifierKey?: VerifierKey;
  /** Approver keys the auditor pinned: every signed decision is checked against them. */
  approverKeys?: PinnedApproverKeys;
  /** Writ channel keys the auditor pinned (their key ids): every channel assertion must be signed by one. */
  channelKeys?: ReadonlyArray<{ keyId: string }>;
  /** The time-stamp authority's certificate the auditor pinned: every token must be signed by it. */
  tsaCert?: pkijs.Certificate;
  /**
   * Checked as one of the bundles given together as an export (verifyExport checks that they are
   * all of it); otherwise the bundle must be the whole of its export.
   */
  partOfExport?: boolean;
}

export async function verifyBundle(
  files: ReadonlyMap<string, Uint8Array>,
  options: VerifyBundleOptions = {},
): Promise<BundleVerdict> {
  // A check answered later (a signature on the thread pool) holds its finding's place until it settles.
  const findings: Array<BundleFinding | Promise<BundleFinding | null>> = [];
  const warnings: string[] = [];
  const finding = (file: string, code: BundleFindingCode, problem: string, seq?: number): BundleFinding => ({
    file,
    code,
    problem,
    ...(seq === undefined ? {} : { seq }),
  });
  const bad: Bad = (file, code, problem, seq) => void findings.push(finding(file, code, problem, seq));
  const badUnless = (holds: Promise<boolean>, file: string, code: BundleFindingCode, problem: string): void =>
    void findings.push(holds.then((ok) => (ok ? null : finding(file, code, problem))));
  const warn = (message: string): void => void warnings.push(message);
  const bytes = fileReader(files, bad);

  const { key, selfKeyed } = chooseKey(files, options.verifierKey ?? null, bad, warn);

  const manifest = checkManifest(bytes, files, key, bad);
  const chain = manifest?.chain ?? null;
  const membership = manifest?.export ?? null;
  if (!options.partOfExport)
    for (const f of loneBundleFindings({ chain, export: membership })) bad(f.file, f.code, f.problem);

  const verified = checkCheckpointFile(bytes(CHECKPOINT), key, manifest, bad);
  const checkpoint = verified?.checkpoint ?? null;
  const timestamps = await checkBundleTimestamps(files, verified, key, options.tsaCert ?? null, bad, warn);
  const records = readRecords(bytes(RECORDS_JSONL), chain, bad);
  checkLifecycles(records, bad);

  // The inclusion proofs.
  const proofBytes = bytes(PROOFS);
  if (proofBytes)
    checkProofs(proofBytes, chain, checkpoint, records, manifest?.format ?? null, (code, problem, seq) =>
      bad(PROOFS, code, problem, seq),
    );

  const operations = operationsOf(records);
  checkStatements(files, manifest?.format ?? null, operations, key, chain, records, bad, badUnless);

  // The governance each decision names: in the bundle, on the record, and what its hash says.
  checkGovernance(files, records, bad, warn);
  // Signed decisions: the approver's signature, not the worker's word that it verified.
  const decisionSignatures = checkDecisionSignatures(
    records,
    options.approverKeys,
    (code, problem, seq) => bad(RECORDS_JSONL, code, problem, seq),
    warn,
  );

  const { identity, notices } = await checkIdentityProofs(records, options, bad, warn);
  const sealed = checkSealed(optionalFile(files, SEALED), records, bad);
  const settled = (await Promise.all(findings)).filter((f): f is BundleFinding => f !== null);

  return {
    ok: settled.length === 0,
    findings: settled,
    warnings,
    selfKeyed: selfKeyed && key !== null,
    chain,
    records: records.length,
    operations,
    checkpoint,
    decisionSignatures,
    identity,
    notices,
    timestamps,
    sealed,
    export: membership,
  };
}

function optionalFile(files: ReadonlyMap<string, Uint8Array>, name: string): Buffer | undefined {
  const data = files.get(name);
  return data === undefined ? undefined : Buffer.from(data);
}

/** Reading a file reports it when missing, so the checks run in the order findings are listed. */
function fileReader(files: ReadonlyMap<string, Uint8Array>, bad: Bad): (name: string) => Buffer | null {
  return (name) => {
    const data = files.get(name);
    if (data === undefined) {
      bad(name, 'FILE_MISSING', 'missing');
      return null;
    }
    return Buffer.from(data);
  };
}

/** Proofs of identity: each re-checked from the proof on the record, never the worker's word. */
async function checkIdentityProofs(
  records: readonly ParsedRecord[],
  options: VerifyBundleOptions,
  bad: Bad,
  warn: (message: string) => void,
) {
  const notices: IdentityNotice[] = [];
  const identity = await checkIdentities(
    records,
    options.channelKeys ? { pinnedChannels: options.channelKeys } : {},
    (code, problem, seq) => bad(RECORDS_JSONL, code, problem, seq),
    (notice) => void notices.push(notice),
  );
  if (identity.verified && !identity.channelKeysPinned && usesChannels(records))
    warn(
      "channel assertions were checked against the channel keys in the bundle's own directory records: pin Writ's channel key with --channel-key to check them against a key you hold",
    );
  return { identity, notices };
}

/** True when a record rests on a Writ channel's assertion. */
function usesChannels(records: readonly ParsedRecord[]): boolean {
  return records.some((r) => {
    const identity = (r.record?.payload as { identity?: { assertion?: unknown } } | undefined)?.identity;
    return typeof identity?.assertion === 'string';
  });
}

/** The records and their chain links. */
function readRecords(data: Buffer | null, chain: string | null, bad: Bad): ParsedRecord[] {
  const records: ParsedRecord[] = [];
  if (data) parseRecords(data, chain, records, (code, problem, seq) => bad(RECORDS_JSONL, code, problem, seq));
  return records;
}

/** The checkpoint, signed by the key and of the manifest's chain; null when it cannot be trusted. */
function checkCheckpointFile(
  data: Buffer | null,
  key: VerifierKey | null,
  manifest: Manifest | null,
  bad: Bad,
): VerifiedCheckpoint | null {
  if (!data || !key) return null;
  const verdict = verifyCheckpoint(data, key, manifest ? { origin: manifest.origin } : {});
  if (!verdict.ok) {
    bad(CHECKPOINT, checkpointProblemCode(verdict.code), `${verdict.code}: ${verdict.reason}`);
    return null;
  }
  const { checkpoint } = verdict;
  const chain = manifest?.chain ?? null;
  if (chain !== null && !checkpoint.origin.endsWith(`/${chain}`))
    bad(CHECKPOINT, 'CHECKPOINT_WRONG_ORIGIN', `its origin ${checkpoint.origin} is not of chain ${chain}`);
  return { note: data.toString('utf8'), checkpoint };
}

/** Each closed operation's recorded path, against the lifecycle table and its own records' states. */
function checkLifecycles(records: readonly ParsedRecord[], bad: Bad): void {
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
}

/** The operations the records name, in the order they first appear. */
function operationsOf(records: readonly ParsedRecord[]): string[] {
  return [...new Set(records.map((r) => r.record?.operationId).filter((id): id is string => typeof id === 'string'))];
}

/**
 * The signed statements, one per operation: every operation has one, and each checks out. Format 3
 * has them as the lines of one file, earlier formats as a file each; without a manifest to say
 * which, the bundle's files do.
 */
function checkStatements(
  files: ReadonlyMap<string, Uint8Array>,
  format: string | null,
  operations: readonly string[],
  key: VerifierKey | null,
  chain: string | null,
  records: ParsedRecord[],
  bad: Bad,
  badUnless: (holds: Promise<boolean>, file: string, code: BundleFindingCode, problem: string) => void,
): void {
  const byOperation = recordsByOperation(records);
  const check = (name: string, data: Buffer, belongsHere: BelongsHere, where = ''): void =>
    checkStatement(
      data,
      belongsHere,
      key,
      chain,
      byOperation,
      (code, problem, seq) => bad(name, code, where + problem, seq),
      (holds, code, problem) => badUnless(holds, name, code, where + problem),
    );
  const perFile = [...files.keys()].filter(isStatementFileName).sort();
  if (format !== null ? statementsInOneFile(format) : files.has(STATEMENTS)) {
    for (const name of perFile)
      bad(name, 'STATEMENT_MALFORMED', `a ${format ?? BUNDLE_FORMAT} bundle has its statements in ${STATEMENTS}`);
    const data = files.get(STATEMENTS);
    if (data === undefined) {
      if (operations.length) bad(STATEMENTS, 'FILE_MISSING', 'missing: the operations have no signed statements');
      return;
    }
    return checkStatementLines(
      Buffer.from(data),
      operations,
      (line, belongsHere, where) => check(STATEMENTS, line, belongsHere, where),
      (code, problem, seq) => bad(STATEMENTS, code, problem, seq),
    );
  }
  if (files.has(STATEMENTS))
    bad(STATEMENTS, 'STATEMENT_MALFORMED', `a ${format} bundle has a statement file an operation, not ${STATEMENTS}`);
  for (const operationId of operations) {
    const name = statementFileName(operationId);
    if (!files.has(name))
      bad(name, 'STATEMENT_MISSING', `missing: operation ${operationId} has records but no signed statement`);
  }
  for (const name of perFile) check(name, Buffer.from(files.get(name)!), namedFile(name));
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

export type { BundleFindingCode } from './findings.js';
