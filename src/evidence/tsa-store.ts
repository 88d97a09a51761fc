import type pg from 'pg';
import { explainCheckpointerError } from './store.js';
import type { Timestamp } from './tsa-client.js';

/** The SQL of writ.checkpoint_timestamps (migrations/0007): one token per checkpoint. */
export interface StoredTimestamp extends Timestamp {
  size: number;
}

/** Stores a checkpoint's token unless it has one already: the first stamp is the one that counts. */
export async function storeTimestamp(pool: pg.Pool, chainId: string, size: number, stamp: Timestamp): Promise<void> {
  await pool
    .query(
      `INSERT INTO writ.checkpoint_timestamps (chain_id, size, checkpoint_sha256, gen_time, token)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [chainId, size, stamp.checkpointSha256, stamp.genTime, stamp.token],
    )
    .catch((error: unknown) => {
      throw explainCheckpointerError(error);
    });
}

/** The time of a checkpoint's stored token, or null when it has none. */
export async function storedGenTime(pool: pg.Pool, chainId: string, size: number): Promise<Date | null> {
  const result = await pool.query<{ gen_time: Date }>(
    'SELECT gen_time FROM writ.checkpoint_timestamps WHERE chain_id = $1 AND size = $2',
    [chainId, size],
  );
  return result.rows[0]?.gen_time ?? null;
}

/** A chain's tokens in checkpoint order; none when the ledger predates migration 0007. */
export async function listTimestamps(pool: pg.Pool, chainId: string): Promise<StoredTimestamp[]> {
  const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('writ.checkpoint_timestamps') AS t");
  if (!exists.rows[0]?.t) return [];
  const result = await pool.query<{ size: string; checkpoint_sha256: Buffer; gen_time: Date; token: Buffer }>(
    `SELECT size, checkpoint_sha256, gen_time, token FROM writ.checkpoint_timestamps
      WHERE chain_id = $1 ORDER BY size`,
    [chainId],
  );
  return result.rows.map((row) => ({
    size: Number(row.size),
    checkpointSha256: row.checkpoint_sha256,
    genTime: row.gen_time,
    token: row.token,
  }));
}

/**
 * The tokens a bundle covered by checkpoint `size` carries: that checkpoint's, and the newest
 * stamped checkpoint's before it (so the bundle shows the stamps in order), each with its note.
 */
export async function bundleTimestamps(
  pool: pg.Pool,
  chainId: string,
  size: number,
): Promise<Array<{ size: number; note: string; token: Buffer }>> {
  const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('writ.checkpoint_timestamps') AS t");
  if (!exists.rows[0]?.t) return [];
  const result = await pool.query<{ size: string; note: string; token: Buffer }>(
    `SELECT t.size, c.note, t.token FROM writ.checkpoint_timestamps t
       JOIN writ.checkpoints c ON c.chain_id = t.chain_id AND c.size = t.size
      WHERE t.chain_id = $1 AND (t.size = $2 OR t.size = (
        SELECT max(size) FROM writ.checkpoint_timestamps WHERE chain_id = $1 AND size < $2))
      ORDER BY t.size`,
    [chainId, size],
  );
  return result.rows.map((row) => ({ size: Number(row.size), note: row.note, token: row.token }));
}
