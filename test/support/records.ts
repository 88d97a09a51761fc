import type pg from 'pg';
import type { LedgerAppender } from '../../src/ledger/appender.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import type { LedgerRow } from '../../src/verify/chain.js';
import { readChain } from '../../src/ledger/reader.js';

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
