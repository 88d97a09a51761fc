import type pg from 'pg';
import { inTransaction } from '../db/transaction.js';
import type { ResultRow } from './append-sql.js';
import type { PreparedRecord } from './record.js';

// Migration 0010: writ.link_records takes the chains' locks, reads their heads once and links the
// records; the links meet the same statement check as anyone's. No row comes back, and nothing is
// written, when any key is taken.
const APPEND = `
  INSERT INTO writ.records (canonical, seq, prev_hash, hash)
  SELECT l.canonical, l.seq, l.prev_hash, l.hash FROM writ.link_records($1::bytea[], $2::text[], $3::text[]) AS l
   ORDER BY l.ord
  RETURNING chain_id, seq, encode(hash, 'hex') AS hash, event_id, idempotency_key, recorded_at,
            pg_backend_pid() AS backend_pid`;

/** Work done in the append's transaction once its records are in (the sealed values beside them). */
export type AfterInsert = (client: pg.PoolClient, records: PreparedRecord[]) => Promise<void>;

/**
 * Appends the records in one round trip (one transaction of their own, or the caller's when there
 * is work to do after them). Null when a key was taken, by an earlier record or by a concurrent
 * insert: then nothing was written.
 */
export async function appendLinked(
  pool: pg.Pool,
  records: PreparedRecord[],
  afterInsert?: AfterInsert,
): Promise<ResultRow[] | null> {
  try {
    if (!afterInsert) return await insertLinked(pool, records);
    return await inTransaction(pool, async (client) => {
      const inserted = await insertLinked(client, records);
      if (inserted) await afterInsert(client, records);
      return inserted;
    });
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return null;
    throw error;
  }
}

async function insertLinked(db: pg.Pool | pg.PoolClient, records: PreparedRecord[]): Promise<ResultRow[] | null> {
  const inserted = await db.query<ResultRow>(APPEND, [
    records.map((p) => p.canonical),
    records.map((p) => p.record.chain),
    records.map((p) => p.record.idempotencyKey),
  ]);
  if (inserted.rows.length === records.length) return inserted.rows;
  if (inserted.rows.length === 0) return null;
  throw new Error(`the ledger wrote ${inserted.rows.length} of ${records.length} records of one statement`);
}
