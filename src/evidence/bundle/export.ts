import { sign } from 'node:crypto';
import type pg from 'pg';
import type { AnchorSink } from '../anchors.js';
import { parseCheckpoint } from '../../verify/checkpoint.js';
import { originFor, writeCheckpoint } from '../checkpointer.js';
import { keyId, signNote } from '../../verify/note.js';
import type { NoteSigner } from '../../verify/note.js';
import type { NodeId } from '../../verify/subtree.js';
import {
  inclusionProofFrom,
  inclusionProofRanges,
  nodesCovering,
  rootFrom,
  subtreeHashesFromNodes,
} from '../../verify/subtree.js';
import type { DsseEnvelope, Manifest, ProofsFile } from '../../verify/bundle/format.js';
import {
  BUNDLE_FORMAT,
  CHECKPOINT,
  DSSE_PAYLOAD_TYPE,
  KEY_PUB,
  MANIFEST,
  MANIFEST_SIG,
  PREDICATE_TYPE,
  PROOFS,
  README,
  RECORDS_CSV,
  RECORDS_JSONL,
  STATEMENT_TYPE,
  csvRow,
  dssePae,
  manifestNoteText,
  sha256Hex,
  statementFileName,
} from '../../verify/bundle/format.js';
import { governanceFile, governanceReferences } from '../../verify/bundle/governance.js';
import { bundleReadme } from './readme.js';
import { WritError } from '../../model/errors.js';
import { EventType, isStatementApproval } from '../../model/events.js';
import { fetchNodes, newestCheckpoint } from '../store.js';

/**
 * What to export: the records of one operation or trace, or of every operation whose first record
 * falls in [from, to).
 */
export type BundleSelection = { id: string } | { from: Date; to: Date };

export interface ExportOptions {
  signer: NoteSigner & { verifierKey: string };
  origin: string;
  anchors: AnchorSink[];
  /** Called as proofs are built: (done, total). */
  progress?: (done: number, total: number) => void;
  now?: Date;
  /** Where a covering checkpoint is written when none exists (a writ_checkpointer login); default: `pool`. */
  checkpointPool?: pg.Pool;
}

export interface BundleRecord {
  seq: number;
  chain: string;
  canonical: Buffer;
  prevHash: Buffer;
  hash: Buffer;
  record: Record<string, unknown>;
}

export interface ExportedBundle {
  /** File name to bytes, every file of the bundle. */
  files: Map<string, Buffer>;
  chain: string;
  records: number;
  operations: string[];
  checkpointSize: number;
  /** True when this export had to sign a new checkpoint. */
  wroteCheckpoint: boolean;
}

/** Thrown when the selection cannot be exported as asked (nothing matches, several chains). */
export class BundleSelectionError extends WritError {
  override readonly name = 'BundleSelectionError';
  constructor(message: string) {
    super('BUNDLE_SELECTION', message);
  }
}

const PROOF_BATCH = 256;

export async function selectRecords(pool: pg.Pool, selection: BundleSelection): Promise<BundleRecord[]> {
  let where: string;
  let params: unknown[];
  if ('id' in selection) {
    where = 'operation_id = $1 OR correlation_id = $1';
    params = [selection.id];
  } else {
    where = `operation_id IN (SELECT operation_id FROM writ.records WHERE operation_id IS NOT NULL
               GROUP BY operation_id HAVING min((record->>'occurredAt')::timestamptz) >= $1 AND min((record->>'occurredAt')::timestamptz) < $2)`;
    params = [selection.from.toISOString(), selection.to.toISOString()];
  }
  const result = await pool.query<{
    chain_id: string;
    seq: string | number;
    canonical: Buffer;
    prev_hash: Buffer;
    hash: Buffer;
    record: Record<string, unknown>;
  }>(
    `SELECT chain_id, seq, canonical, prev_hash, hash, record FROM writ.records WHERE ${where} ORDER BY chain_id, seq`,
    params,
  );
  return result.rows.map((row) => ({
    chain: row.chain_id,
    seq: Number(row.seq),
    canonical: row.canonical,
    prevHash: row.prev_hash,
    hash: row.hash,
    record: row.record,
  }));
}

/**
 * Builds every file of a bundle for the selected records, after making sure a signed checkpoint
 * covers all of them (signing and anchoring a new one when the newest is too small).
 */
export async function exportBundle(
  pool: pg.Pool,
  selection: BundleSelection,
  options: ExportOptions,
): Promise<ExportedBundle> {
  const selected = await selectRecords(pool, selection);
  if (!selected.length)
    throw new BundleSelectionError(
      'no records match: check the operation or correlation id, or the --from/--to window',
    );
  const records = await withGovernance(pool, selected);
  const chains = [...new Set(records.map((r) => r.chain))];
  if (chains.length > 1)
    throw new BundleSelectionError(
      `the selected records are in ${chains.length} chains (${chains.join(', ')}); a bundle holds one chain: select fewer operations`,
    );
  const chain = chains[0]!;
  const maxSeq = records[records.length - 1]!.seq;

  let wroteCheckpoint = false;
  let note = await newestCheckpoint(pool, chain);
  if (!note || note.size < maxSeq) {
    await writeCheckpoint(options.checkpointPool ?? pool, chain, {
      signer: options.signer,
      origin: options.origin,
      anchors: options.anchors,
    });
    wroteCheckpoint = true;
    note = await newestCheckpoint(pool, chain);
    if (!note || note.size < maxSeq)
      throw new Error(`could not write a checkpoint of chain ${chain} covering record ${maxSeq}`);
  }
  const parsed = parseCheckpoint(note.note).checkpoint;
  if (parsed.origin !== originFor(options.origin, chain))
    throw new Error(
      `the newest checkpoint of chain ${chain} is from ${parsed.origin}, not ${originFor(options.origin, chain)}: check WRIT_LOG_ORIGIN`,
    );
  const treeSize = parsed.size;

  const proofs = await buildProofs(pool, chain, records, treeSize, parsed.root, options.progress);
  const files = new Map<string, Buffer>();
  files.set(
    RECORDS_JSONL,
    Buffer.from(
      records
        .map(
          (r) =>
            `${JSON.stringify({ seq: r.seq, chain: r.chain, canonical: r.canonical.toString('base64'), prevHash: r.prevHash.toString('hex'), hash: r.hash.toString('hex') })}\n`,
        )
        .join(''),
      'utf8',
    ),
  );
  files.set(RECORDS_CSV, Buffer.from(recordsCsv(records), 'utf8'));
  files.set(
    PROOFS,
    Buffer.from(
      `${JSON.stringify({ chain, treeSize, root: parsed.root.toString('base64'), proofs } satisfies ProofsFile, null, 1)}\n`,
      'utf8',
    ),
  );
  files.set(CHECKPOINT, Buffer.from(note.note, 'utf8'));
  files.set(KEY_PUB, Buffer.from(`${options.signer.verifierKey}\n`, 'utf8'));
  for (const record of records) {
    const governance = governanceFile(record.record);
    if (governance) files.set(governance.name, governance.bytes);
  }

  const operations = [
    ...new Set(records.map((r) => r.record.operationId).filter((id): id is string => typeof id === 'string')),
  ];
  const checkpointSummary = { origin: parsed.origin, size: treeSize, root: parsed.root.toString('base64') };
  for (const operationId of operations) {
    const own = records.filter((r) => r.record.operationId === operationId);
    files.set(
      statementFileName(operationId),
      Buffer.from(
        `${JSON.stringify(dsseEnvelope(statementFor(operationId, chain, own, checkpointSummary), options.signer), null, 1)}\n`,
        'utf8',
      ),
    );
  }
  files.set(
    README,
    Buffer.from(
      bundleReadme({
        chain,
        origin: parsed.origin,
        treeSize,
        records: records.length,
        operations,
        verifierKey: options.signer.verifierKey,
      }),
      'utf8',
    ),
  );

  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    chain,
    origin: parsed.origin,
    createdAt: (options.now ?? new Date()).toISOString(),
    files: [...files.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, bytes]) => ({ name, sha256: sha256Hex(bytes), size: bytes.length })),
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`, 'utf8');
  files.set(MANIFEST, manifestBytes);
  files.set(MANIFEST_SIG, Buffer.from(signNote(manifestNoteText(manifestBytes), options.signer), 'utf8'));
  return { files, chain, records: records.length, operations, checkpointSize: treeSize, wroteCheckpoint };
}

/**
 * Adds the governance records (policy text, directory of people) that the selected decisions name,
 * so the bundle shows who was allowed to decide at the time, with proofs that the ledger holds it.
 */
async function withGovernance(pool: pg.Pool, records: BundleRecord[]): Promise<BundleRecord[]> {
  const keys = new Set<string>();
  for (const record of records) {
    const refs = governanceReferences(record.record);
    if (refs.policy) keys.add(`governance/policy/${refs.policy}`);
    if (refs.directory) keys.add(`governance/directory/${refs.directory}`);
  }
  if (!keys.size) return records;
  const chain = records[0]!.chain;
  const result = await pool.query<{
    chain_id: string;
    seq: string | number;
    canonical: Buffer;
    prev_hash: Buffer;
    hash: Buffer;
    record: Record<string, unknown>;
  }>(
    'SELECT chain_id, seq, canonical, prev_hash, hash, record FROM writ.records WHERE chain_id = $1 AND idempotency_key = ANY($2::text[])',
    [chain, [...keys]],
  );
  const have = new Set(records.map((r) => r.seq));
  const added = result.rows
    .filter((row) => !have.has(Number(row.seq)))
    .map((row) => ({
      chain: row.chain_id,
      seq: Number(row.seq),
      canonical: row.canonical,
      prevHash: row.prev_hash,
      hash: row.hash,
      record: row.record,
    }));
  return [...records, ...added].sort((a, b) => a.seq - b.seq);
}

/**
 * RFC 9162 inclusion proofs from the stored complete subtrees: each proof needs O(log n) nodes,
 * and the nodes of a batch of proofs are read in one query. The stored tree is checked against
 * the signed root first, so a damaged node table cannot yield proofs that fail only at the auditor.
 */
async function buildProofs(
  pool: pg.Pool,
  chain: string,
  records: BundleRecord[],
  treeSize: number,
  root: Buffer,
  progress?: (done: number, total: number) => void,
): Promise<ProofsFile['proofs']> {
  const rootNodes = nodesCovering(0, treeSize);
  const rootHashes = await fetchNodes(pool, chain, rootNodes);
  const computed = rootFrom(
    treeSize,
    subtreeHashesFromNodes((level, index) => need(rootHashes, chain, level, index)),
  );
  if (!computed.equals(root))
    throw new Error(
      `the stored Merkle tree of chain ${chain} does not hash to the checkpoint's root at size ${treeSize}: run writ verify`,
    );
  const proofs: ProofsFile['proofs'] = [];
  for (let i = 0; i < records.length; i += PROOF_BATCH) {
    const batch = records.slice(i, i + PROOF_BATCH);
    const wanted = new Map<string, NodeId>();
    for (const record of batch) {
      for (const range of inclusionProofRanges(record.seq - 1, treeSize)) {
        for (const node of nodesCovering(range.start, range.end)) wanted.set(`${node.level}/${node.index}`, node);
      }
    }
    const hashes = await fetchNodes(pool, chain, [...wanted.values()]);
    const lookup = subtreeHashesFromNodes((level, index) => need(hashes, chain, level, index));
    for (const record of batch) {
      proofs.push({
        seq: record.seq,
        leafIndex: record.seq - 1,
        hashes: inclusionProofFrom(record.seq - 1, treeSize, lookup).map((h) => h.toString('base64')),
      });
    }
    progress?.(proofs.length, records.length);
  }
  return proofs;
}

function need(hashes: Map<string, Buffer>, chain: string, level: number, index: number): Buffer {
  const hash = hashes.get(`${level}/${index}`);
  if (!hash)
    throw new Error(
      `the stored Merkle tree of chain ${chain} lacks node ${level}/${index}; rebuild it from the records`,
    );
  return hash;
}

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

/**
 * The in-toto Statement of one operation. Its subjects are the operation's ledger records, each
 * named `<chain>/<seq>` with the SHA-256 of its canonical bytes: the statement is bound to the exact
 * evidence, and the targets it touched are in the predicate.
 */
function statementFor(
  operationId: string,
  chain: string,
  records: BundleRecord[],
  checkpoint: { origin: string; size: number; root: string },
): Json {
  const planned = records.find((r) => r.record.type === EventType.operationPlanned);
  const envelope = obj(obj(planned?.record.payload).envelope);
  const closed = records.find((r) => r.record.type === EventType.operationClosed);
  const last = [...records].reverse().find((r) => typeof r.record.state === 'string');
  const first = records[0]!.record;
  const requester = obj(first.actor).id ?? null;
  const approvals = records
    .filter((r) => isStatementApproval(String(r.record.type)))
    .map((r) => {
      const p = obj(r.record.payload);
      return {
        seq: r.seq,
        type: r.record.type,
        occurredAt: r.record.occurredAt,
        approver: p.approver ?? p.by ?? null,
        approvers: p.approvers ?? null,
        reason: p.reason ?? null,
        refusal: p.refusal ?? null,
        approverDiffersFromRequester: p.approverDiffersFromRequester ?? null,
        // A signed decision's evidence, as recorded: verify-bundle --approver-keys checks it against pinned keys.
        kind: p.kind ?? null,
        digest: p.digest ?? null,
        signature: p.signature ?? null,
        keyId: p.keyId ?? null,
      };
    });
  return {
    _type: STATEMENT_TYPE,
    subject: records.map((r) => ({ name: `${chain}/${r.seq}`, digest: { sha256: sha256Hex(r.canonical) } })),
    predicateType: PREDICATE_TYPE,
    predicate: {
      operationId,
      correlationId: first.correlationId ?? null,
      requester,
      envelope: planned
        ? {
            intent: envelope.intent ?? null,
            actor: envelope.actor ?? null,
            mode: envelope.mode ?? null,
            paramsHash: envelope.paramsHash ?? null,
            targets: envelope.targets ?? [],
            requestedAt: envelope.requestedAt ?? null,
            labels: envelope.labels ?? {},
          }
        : null,
      outcome: closed ? (obj(closed.record.payload).outcome ?? null) : null,
      finalState: last?.record.state ?? null,
      approvals,
      records: { chain, first: records[0]!.seq, last: records[records.length - 1]!.seq, count: records.length },
      governance: records.map((r) => governanceReferences(r.record)).find((refs) => refs.policy !== undefined) ?? null,
      checkpoint,
    },
  };
}

function dsseEnvelope(statement: Json, signer: NoteSigner): DsseEnvelope {
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const sig = sign(null, dssePae(DSSE_PAYLOAD_TYPE, payload), signer.privateKey);
  return {
    payloadType: DSSE_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyId(signer.name, signer.privateKey).toString('hex'), sig: sig.toString('base64') }],
  };
}

const CSV_HEADER = [
  'operation',
  'seq',
  'occurredAt',
  'type',
  'state',
  'actor',
  'step',
  'target',
  'before',
  'after',
  'approver',
  'approverDiffersFromRequester',
];
const SUMMARY_LIMIT = 300;

function summary(value: unknown): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value) ?? '';
  return text.length > SUMMARY_LIMIT ? `${text.slice(0, SUMMARY_LIMIT - 1)}…` : text;
}

/**
 * One row per record (each is one change of the operation), for sampling; the canonical bytes stay the
 * evidence. `writ serve` offers the same file as its CSV download.
 */
export function recordsCsv(records: BundleRecord[]): string {
  const targets = new Map<string, unknown[]>();
  for (const r of records) {
    if (r.record.type === EventType.operationPlanned && typeof r.record.operationId === 'string') {
      const list = obj(obj(r.record.payload).envelope).targets;
      if (Array.isArray(list)) targets.set(r.record.operationId, list);
    }
  }
  let out = csvRow(CSV_HEADER);
  for (const r of records) {
    const rec = r.record;
    const p = obj(rec.payload);
    const step = typeof rec.stepIndex === 'number' ? rec.stepIndex : null;
    const target = step === null ? null : obj((targets.get(String(rec.operationId)) ?? [])[step] ?? p.target);
    const wouldChange = obj(p.wouldChange);
    const before = p.before ?? wouldChange.before ?? p.restoring;
    const after = p.after ?? wouldChange.after ?? p.restored;
    const approver =
      typeof p.approver === 'string' ? p.approver : Array.isArray(p.approvers) ? p.approvers.join(' ') : '';
    const differs =
      typeof p.approverDiffersFromRequester === 'boolean' ? (p.approverDiffersFromRequester ? 'yes' : 'no') : 'n/a';
    out += csvRow([
      String(rec.operationId ?? ''),
      String(r.seq),
      String(rec.occurredAt ?? ''),
      String(rec.type ?? ''),
      String(rec.state ?? ''),
      String(obj(rec.actor).id ?? ''),
      step === null ? '' : String(step),
      target ? String(target.identity ?? target.target ?? '') : '',
      summary(before),
      summary(after),
      approver,
      differs,
    ]);
  }
  return out;
}
