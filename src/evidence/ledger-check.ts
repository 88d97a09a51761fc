import type pg from 'pg';
import type * as pkijs from 'pkijs';
import { checkProjection, describeDisagreement } from '../ledger/projection-check.js';
import type { ProjectionVerdict } from '../ledger/projection-check.js';
import { listChains, verifyStoredChain } from '../ledger/reader.js';
import { auditCheckpoints } from '../verify/audit.js';
import type { CheckpointAudit, CheckpointFindingCode, CheckpointSource } from '../verify/audit.js';
import type { AnchorKeyEvent } from '../verify/anchor-audit.js';
import type { ChainVerdict, DamageCode } from '../verify/chain.js';
import type { VerifierKey } from '../verify/note.js';
import type { AnchorSink } from './anchors.js';
import { originFor } from './checkpointer.js';
import { checkpointedChains, listCheckpoints } from './store.js';
import { auditTimestamps } from './tsa-check.js';
import type { TimestampAudit, TimestampCheckCode } from './tsa-check.js';
import { listTimestamps } from './tsa-store.js';
import { checkSealedValues } from '../privacy/sealed-check.js';
import type { SealedFindingCode } from '../privacy/sealed-check.js';

export interface LedgerCheckOptions {
  /** The log's name; each chain's checkpoints carry `<origin>/<chain>`. */
  origin: string;
  anchors: readonly AnchorSink[];
  /** Checks checkpoint signatures; null: checkpoints are parsed, not authenticated. */
  key: VerifierKey | null;
  /** Ship every stored jsonb copy to Node and compare it there. */
  deep?: boolean;
  /** Also compare the what-happened projection with the records (default true). */
  projection?: boolean;
  /** The pinned TSA certificate that checks time-stamp signatures; null: imprints and order only. */
  tsaCert?: pkijs.Certificate | null;
  /** Told, chain by chain, how many records are verified so far out of the chain's head. */
  onProgress?: (records: number, head: number, chainId: string) => void;
}

export interface ChainResult {
  verdict: ChainVerdict;
  audit: CheckpointAudit;
  timestamps: TimestampAudit;
}

export type LedgerFindingCode =
  DamageCode | 'ILLEGAL_PATH' | CheckpointFindingCode | TimestampCheckCode | 'PROJECTION_DISAGREES' | SealedFindingCode;

/** One problem, wherever it was found; `detail` is for people, `code` for tools and tests. */
export interface LedgerFinding {
  code: LedgerFindingCode;
  chainId?: string;
  seq?: number;
  operationId?: string;
  /** For a checkpoint finding: the checkpoint's size and who holds it (`ledger` or an anchor's name). */
  size?: number;
  source?: string;
  /** For a projection finding: the column of writ.operations that disagrees ('*': the row itself). */
  field?: string;
  detail: string;
}

export interface LedgerReport {
  ok: boolean;
  chains: ChainResult[];
  /** Null when the projection was not asked for. */
  projection: ProjectionVerdict | null;
  findings: LedgerFinding[];
}

/**
 * `writ verify` as a library call: every chain the ledger or its checkpoint table knows, checked
 * record by record and against every checkpoint in the ledger and in each anchor, then the
 * what-happened projection against the records. Reads here; the verify folder decides.
 */
export async function verifyLedger(pool: pg.Pool, options: LedgerCheckOptions): Promise<LedgerReport> {
  const chains = new Set(await listChains(pool));
  for (const chainId of await checkpointedChains(pool)) chains.add(chainId);
  const results: ChainResult[] = [];
  for (const chainId of [...chains].sort()) results.push(await verifyChainAndCheckpoints(pool, chainId, options));
  const projection = options.projection === false ? null : await checkProjection(pool);
  const sealed = await checkSealedValues(pool);
  const findings = [
    ...results.flatMap(findingsOf),
    ...(projection?.disagreements ?? []).map((d): LedgerFinding => ({
      code: 'PROJECTION_DISAGREES',
      operationId: d.operationId,
      field: d.field,
      detail: describeDisagreement(d),
    })),
    ...sealed,
  ];
  const ok = !results.some(isDamaged) && (projection?.ok ?? true) && !sealed.length;
  return { ok, chains: results, projection, findings };
}

async function verifyChainAndCheckpoints(
  pool: pg.Pool,
  chainId: string,
  options: LedgerCheckOptions,
): Promise<ChainResult> {
  const checkpoints: CheckpointSource[] = (await listCheckpoints(pool, chainId)).map((c) => ({
    ...c,
    source: 'ledger',
  }));
  const anchorEvents: AnchorKeyEvent[] = [];
  for (const sink of options.anchors) {
    for (const anchored of await sink.list(chainId))
      checkpoints.push({ size: anchored.size, note: anchored.note, source: anchored.sink, anchor: sink.name });
    anchorEvents.push(...((await sink.history?.(chainId)) ?? []));
  }
  const onProgress = options.onProgress;
  const verdict = await verifyStoredChain(pool, chainId, {
    deep: options.deep ?? false,
    rootsAt: new Set(checkpoints.map((c) => c.size)),
    ...(onProgress ? { onProgress: (records: number, head: number) => onProgress(records, head, chainId) } : {}),
  });
  // A chain that does not verify has no trustworthy length: every checkpoint is judged on its signature alone.
  const records = verdict.ok ? verdict.records : Number.MAX_SAFE_INTEGER;
  const audit = auditCheckpoints({
    chainId,
    origin: originFor(options.origin, chainId),
    records,
    roots: verdict.roots,
    checkpoints,
    key: options.key,
    anchors: options.anchors.map((sink) => sink.name),
    anchorEvents,
  });
  const timestamps = await auditTimestamps(await listTimestamps(pool, chainId), checkpoints, options.tsaCert ?? null);
  return { verdict, audit, timestamps };
}

export function isDamaged({ verdict, audit, timestamps }: ChainResult): boolean {
  return !verdict.ok || audit.damage.length > 0 || verdict.illegalPaths.length > 0 || timestamps.damage.length > 0;
}

function findingsOf({ verdict, audit, timestamps }: ChainResult): LedgerFinding[] {
  const chainId = verdict.chainId;
  return [
    ...(verdict.damage
      ? [{ code: verdict.damage.code, chainId, seq: verdict.damage.seq, detail: verdict.damage.detail }]
      : []),
    ...audit.damage.map((d) => ({ code: d.code, chainId, size: d.size, source: d.source, detail: d.detail })),
    ...timestamps.damage.map((d) => ({ code: d.code, chainId, size: d.size, detail: d.detail })),
    ...verdict.illegalPaths.map((f) => ({
      code: f.code,
      chainId,
      seq: f.seq,
      operationId: f.operationId,
      detail: `${f.step}: ${f.detail}`,
    })),
  ];
}
