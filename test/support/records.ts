import type pg from 'pg';
import type { LedgerAppender } from '../../src/ledger/appender.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import type { LedgerRow } from '../../src/verify/chain.js';
import { readChain } from '../../src/ledger/reader.js';
import { canonicalBytes } from '../../src/verify/canonical.js';
import { GENESIS_HASH, chainHash } from '../../src/verify/hash.js';
import type { TestLedger } from './db.js';

export function note(i: number, extra: Partial<RecordDraft> = {}): RecordDraft {
  return { type: 'manual.note', actor: { id: 'alice', kind: 'user' }, payload: { message: `note ${i}`, i }, ...extra };
}

export async function appendNotes(appender: LedgerAppender, count: number): Promise<void> {
  await appender.appendAll(Array.from({ length: count }, (_, i) => note(i + 1)));
}

export async function storedRows(pool: pg.Pool, chain = 'main'): Promise<LedgerRow[]> {
  const rows: LedgerRow[] = [];
  for await (const page of readChain(pool, chain, { deep: true })) rows.push(...page);
  return rows;
}

/**
 * Runs SQL as a superuser with user triggers off, the way an attacker with database access
 * (or a careless administrator) would edit the ledger behind Writ's back.
 */
export async function tamper(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query(sql, params);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/**
 * A superuser's full rewrite: change one record, then recompute every hash after it so the chain
 * verifies on its own.
 */
export async function rewriteChain(ledger: TestLedger, seq: number) {
  const rows = await storedRows(ledger.pool);
  let prev: Buffer = GENESIS_HASH;
  for (const row of rows) {
    let canonical: Buffer = Buffer.from(row.canonical);
    if (row.seq === seq) {
      const record = JSON.parse(canonical.toString('utf8'));
      record.payload.message = 'this never happened';
      canonical = canonicalBytes(record);
    }
    const hash = chainHash(prev, canonical);
    await tamper(
      ledger.pool,
      `UPDATE writ.records SET canonical = $2, record = convert_from($2, 'UTF8')::jsonb, prev_hash = $3, hash = $4 WHERE seq = $1`,
      [row.seq, canonical, prev, hash],
    );
    prev = hash;
  }
}
