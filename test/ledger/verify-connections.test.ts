/**
 * `writ verify`'s threads keep their connection from one range to the next, close it once idle,
 * and shrug off a kept connection the server ended.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type pg from 'pg';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { verifyWorkerFile } from '../../src/ledger/parallel-verify.js';
import { verifyStoredChain } from '../../src/ledger/reader.js';
import { freshLedger } from '../support/db.js';
import { note } from '../support/records.js';

const RECORDS = 40;
// One thread and ranges of four records: ten ranges, one after the other, on that thread.
const ONE_THREAD = { threads: 1, rangeSize: 4, parallelFrom: 0 };

async function verifyConnections(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'writ-verify'`,
  );
  return rows[0]!.n;
}

async function ledgerOfNotes(t: Parameters<typeof freshLedger>[0]) {
  const ledger = await freshLedger(t);
  await new GroupCommitAppender(ledger.pool).appendAll(Array.from({ length: RECORDS }, (_, i) => note(i + 1)));
  return ledger.pool;
}

test('ten ranges on one thread use one connection, closed once the thread is idle', async (t) => {
  assert.ok(verifyWorkerFile(), 'the compiled worker is there, so the thread really runs');
  const pool = await ledgerOfNotes(t);
  const verdict = await verifyStoredChain(pool, 'main', ONE_THREAD);
  assert.equal(verdict.ok, true);
  assert.equal(verdict.records, RECORDS);
  assert.equal(await verifyConnections(pool), 1, 'the thread kept its connection after its last range');
  let open = 1;
  for (let waited = 0; open > 0 && waited < 4_000; waited += 100) {
    await sleep(100);
    open = await verifyConnections(pool);
  }
  assert.equal(open, 0, 'the idle thread closed its connection');
});

test('a kept connection the server ended is replaced, and the next verification gives the same verdict', async (t) => {
  const pool = await ledgerOfNotes(t);
  const first = await verifyStoredChain(pool, 'main', ONE_THREAD);
  const { rows } = await pool.query<{ ended: boolean }>(
    `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'writ-verify'`,
  );
  assert.deepEqual(
    rows.map((row) => row.ended),
    [true],
    'the thread’s kept connection was ended by the server',
  );
  await sleep(200);
  assert.deepEqual(await verifyStoredChain(pool, 'main', ONE_THREAD), first);
});
