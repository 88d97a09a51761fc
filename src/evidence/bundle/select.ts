import type pg from 'pg';
import { checkOut } from '../../db/check-out.js';
import { WritError } from '../../model/errors.js';
import { governanceReferences } from '../../verify/bundle/governance.js';
import { identityKeyKey, proofUseKey } from '../../governance/recorder.js';
import { decode } from '../../ledger/copy-binary.js';
import type { CopyField } from '../../ledger/copy-binary.js';
import { copyOutBinary } from '../../ledger/copy-out.js';

/**
 * What to export: the records of one operation or trace, or of every operation whose first record
 * falls in [from, to).
 */
export type BundleSelection = { id: string } | { from: Date; to: Date };

export interface BundleRecord {
  seq: number;
  chain: string;
  canonical: Buffer;
  prevHash: Buffer;
  hash: Buffer;
  record: Record<string, unknown>;
}

/** Thrown when the selection cannot be exported as asked (nothing matches, several chains). */
export class BundleSelectionError extends WritError {
  override readonly name = 'BundleSelectionError';
  constructor(message: string) {
    super('BUNDLE_SELECTION', message);
  }
}

interface RecordRow {
  chain_id: string;
  seq: string | number;
  canonical: Buffer;
  prev_hash: Buffer;
  hash: Buffer;
}

/** What a bundle is made of: the bytes, not the jsonb copy (PostgreSQL would print it and Node parse it again). */
const BUNDLE_COLUMNS = 'chain_id, seq, canonical, prev_hash, hash';

/**
 * A record's fields come from its canonical bytes, the evidence the bundle carries, so the summary
 * a statement makes of them cannot differ from what an auditor decodes.
 */
function bundleRecord(row: RecordRow): BundleRecord {
  let record: unknown;
  try {
    record = JSON.parse(row.canonical.toString('utf8'));
  } catch {
    record = null;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record))
    throw new Error(
      `record ${row.seq} of chain ${row.chain_id}: its canonical bytes are not a JSON object; run writ verify`,
    );
  return {
    chain: row.chain_id,
    seq: Number(row.seq),
    canonical: row.canonical,
    prevHash: row.prev_hash,
    hash: row.hash,
    record: record as Record<string, unknown>,
  };
}

export async function selectRecords(pool: pg.Pool, selection: BundleSelection): Promise<BundleRecord[]> {
  const { client, release } = await checkOut(pool);
  // A COPY left unread (a record refused part way) would hand the next user a busy connection.
  let failed = true;
  try {
    let where: string;
    if ('id' in selection) {
      const id = client.escapeLiteral(selection.id);
      where = `operation_id = ${id} OR correlation_id = ${id}`;
    } else {
      const from = client.escapeLiteral(selection.from.toISOString());
      const to = client.escapeLiteral(selection.to.toISOString());
      where = `operation_id IN (SELECT operation_id FROM writ.records WHERE operation_id IS NOT NULL
                 GROUP BY operation_id HAVING min((record->>'occurredAt')::timestamptz) >= ${from} AND min((record->>'occurredAt')::timestamptz) < ${to})`;
    }
    // Ordered here, not by ORDER BY: a trace of ten thousand records is 10 MB of rows, which
    // PostgreSQL's default work_mem sorts on disk (BENCHMARKS.md, P5), and Node sorts the numbers in a
    // millisecond. A binary COPY, because a query would send the bytes as hex (BENCHMARKS.md, P5).
    const records: BundleRecord[] = [];
    for await (const tuples of copyOutBinary(client, `SELECT ${BUNDLE_COLUMNS} FROM writ.records WHERE ${where}`))
      for (const fields of tuples) records.push(bundleRecord(rowOf(fields)));
    failed = false;
    return records.sort(inChainOrder);
  } finally {
    release(failed);
  }
}

function rowOf(fields: CopyField[]): RecordRow {
  return {
    chain_id: decode.text(fields[0]!)!,
    seq: decode.int8(fields[1]!)!,
    canonical: fields[2]!,
    prev_hash: fields[3]!,
    hash: fields[4]!,
  };
}

function inChainOrder(a: BundleRecord, b: BundleRecord): number {
  if (a.chain !== b.chain) return a.chain < b.chain ? -1 : 1;
  return a.seq - b.seq;
}

/** The selected records with the governance records they name, all of one chain; else a BundleSelectionError. */
export async function selectOneChain(pool: pg.Pool, selection: BundleSelection): Promise<BundleRecord[]> {
  const byChain = await selectByChain(pool, selection);
  if (byChain.length > 1)
    throw new BundleSelectionError(
      `the selected records are in ${byChain.length} chains (${byChain.map((records) => records[0]!.chain).join(', ')}); a bundle holds one chain: select fewer operations`,
    );
  return byChain[0]!;
}

/**
 * The selected records chain by chain (in chain order), each chain's with the governance records
 * its own decisions name: governance is recorded on every chain whose decisions rest on it, so
 * each chain's records make a bundle of their own.
 */
export async function selectByChain(pool: pg.Pool, selection: BundleSelection): Promise<BundleRecord[][]> {
  const selected = await selectRecords(pool, selection);
  if (!selected.length)
    throw new BundleSelectionError(
      'no records match: check the operation or correlation id, or the --from/--to window',
    );
  const byChain = new Map<string, BundleRecord[]>();
  for (const record of selected) {
    const own = byChain.get(record.chain);
    if (own) own.push(record);
    else byChain.set(record.chain, [record]);
  }
  const chains: BundleRecord[][] = [];
  for (const records of byChain.values()) chains.push(await withGovernance(pool, records));
  return chains;
}

/**
 * The idempotency keys of the records a record's proof of identity rests on: the provider key
 * that verified its token (governance.identity_key) and the record of the proof's use
 * (identity.proof_used), which also shows a replay's first use.
 */
function identityReferences(record: Record<string, unknown>): string[] {
  const payload = record.payload as { identity?: Record<string, unknown> } | undefined;
  const identity = payload?.identity;
  if (!identity || typeof identity !== 'object') return [];
  const keys: string[] = [];
  if (typeof identity.issuer === 'string' && typeof identity.providerKey === 'string')
    keys.push(identityKeyKey(identity.issuer, identity.providerKey));
  if (typeof identity.proofSha256 === 'string') keys.push(proofUseKey(identity.proofSha256));
  return keys;
}

/**
 * Adds the governance records (policy text, directory of people) that the selected decisions name,
 * and the records their proofs of identity rest on, so the bundle shows who was allowed to decide
 * at the time and who did, with proofs that the ledger holds it.
 */
async function withGovernance(pool: pg.Pool, records: BundleRecord[]): Promise<BundleRecord[]> {
  const keys = new Set<string>();
  for (const record of records) {
    const refs = governanceReferences(record.record);
    if (refs.policy) keys.add(`governance/policy/${refs.policy}`);
    if (refs.directory) keys.add(`governance/directory/${refs.directory}`);
    for (const key of identityReferences(record.record)) keys.add(key);
  }
  if (!keys.size) return records;
  const chain = records[0]!.chain;
  const result = await pool.query<RecordRow>(
    `SELECT ${BUNDLE_COLUMNS} FROM writ.records WHERE chain_id = $1 AND idempotency_key = ANY($2::text[])`,
    [chain, [...keys]],
  );
  const have = new Set(records.map((r) => r.seq));
  const added = result.rows.filter((row) => !have.has(Number(row.seq))).map(bundleRecord);
  return [...records, ...added].sort(inChainOrder);
}
