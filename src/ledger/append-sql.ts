import type pg from 'pg';
import type { AppendResult } from './append-types.js';
import type { Link, LinkColumns } from './chain-head.js';
import type { PreparedRecord } from './record.js';

// Writes every record, or none: a key already taken, by an earlier record or a concurrent insert,
// makes the unique index refuse the whole statement (23505), and the caller then sorts retries
// from conflicts. A NOT EXISTS over the keys used to find taken keys first, so that such a
// statement wrote nothing without an error; that pre-check and its planning cost 5-7 µs of database
// CPU a record on every append, to spare the rare retry a refused statement (BENCHMARKS.md, P1).
// Records sent without their links (null seq) are linked by the ledger row by row (migration 0014).
// The records' bytes go as one binary parameter cut up by offset ($1, $2, $3), and so do the
// hashes ($5: the first record's prev_hash, then each record's hash), rather than as arrays of
// bytea, which the driver and the server write and read as hex text.
const INSERT_BATCH = `
  INSERT INTO writ.records (canonical, seq, prev_hash, hash)
  SELECT substring($1::bytea FROM input.start FOR input.length), $4::bigint + input.ord - 1,
         substring($5::bytea FROM input.ord::int * 32 - 31 FOR 32), substring($5::bytea FROM input.ord::int * 32 + 1 FOR 32)
    FROM unnest($2::int[], $3::int[]) WITH ORDINALITY AS input(start, length, ord)
   ORDER BY ord
  RETURNING chain_id, seq, encode(hash, 'hex') AS hash, event_id, idempotency_key, recorded_at,
            pg_backend_pid() AS backend_pid`;

/** What an insert came to: every record written, a key already taken, or the links sent refused. */
export type Inserted = ResultRow[] | 'key-taken' | 'link-refused';

const FIND_EXISTING = `
  SELECT chain_id, seq, encode(hash, 'hex') AS hash, event_id, idempotency_key, recorded_at, canonical
    FROM writ.records
   WHERE (chain_id, idempotency_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;

export interface ResultRow {
  chain_id: string;
  seq: number;
  hash: string;
  event_id: string;
  idempotency_key: string;
  recorded_at: Date;
  backend_pid?: number;
  canonical?: Buffer;
}

/**
 * All the records, or why none was written: a key was taken (by an earlier record or a concurrent
 * insert), or the links sent do not continue the chain (its head moved: WRT08, or a seq taken).
 */
export async function insertRecords(
  pool: pg.Pool | pg.PoolClient,
  records: PreparedRecord[],
  links: LinkColumns | null = null,
): Promise<Inserted> {
  const starts: number[] = [];
  let start = 1;
  for (const { canonical } of records) {
    starts.push(start);
    start += canonical.length;
  }
  try {
    const inserted = await pool.query<ResultRow>(INSERT_BATCH, [
      Buffer.concat(records.map((p) => p.canonical)),
      starts,
      records.map((p) => p.canonical.length),
      links?.firstSeq ?? null,
      links?.hashes ?? null,
    ]);
    if (inserted.rows.length === records.length) return inserted.rows;
    throw new Error(`the ledger wrote ${inserted.rows.length} of ${records.length} records of one statement`);
  } catch (error) {
    const { code, constraint } = error as { code?: string; constraint?: string };
    // A deadlock (40P01) between two batches waiting for each other's linked rows wrote nothing either.
    if (links && (code === 'WRT08' || code === '40P01' || (code === '23505' && constraint === 'records_pkey')))
      return 'link-refused';
    if (code === '23505') return 'key-taken';
    throw error;
  }
}

/** The newest of the rows and `than`: where the chain's head is after them, as far as they show. */
export function newestLink(rows: readonly ResultRow[], than?: Link): Link | undefined {
  let newest = than;
  for (const row of rows)
    if (!newest || Number(row.seq) > newest.seq) newest = { seq: Number(row.seq), hash: Buffer.from(row.hash, 'hex') };
  return newest;
}

/** The stored records that hold the records' keys, by key, with their canonical bytes. */
export async function findExisting(pool: pg.Pool, records: PreparedRecord[]): Promise<Map<string, ResultRow>> {
  const existing = await pool.query<ResultRow>(FIND_EXISTING, [
    records.map((p) => p.record.chain),
    records.map((p) => p.record.idempotencyKey),
  ]);
  return new Map(existing.rows.map((row) => [keyOf(row.chain_id, row.idempotency_key), row]));
}

export function resultOf(row: ResultRow, duplicate: boolean): AppendResult {
  return {
    chain: row.chain_id,
    seq: Number(row.seq),
    hash: row.hash,
    eventId: row.event_id,
    idempotencyKey: row.idempotency_key,
    recordedAt: row.recorded_at,
    duplicate,
  };
}

export function parseStored(canonical: Buffer | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(canonical?.toString('utf8') ?? 'null');
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function keyOf(chain: string, idempotencyKey: string): string {
  return `${chain}\u0000${idempotencyKey}`;
}
