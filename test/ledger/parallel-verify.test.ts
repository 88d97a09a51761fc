import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import { verifyWorkerFile } from '../../src/ledger/parallel-verify.js';
import { verifyStoredChain } from '../../src/ledger/reader.js';
import { freshLedger } from '../support/db.js';
import { note, tamper } from '../support/records.js';

type Context = Parameters<typeof freshLedger>[0];

const RECORDS = 30;
// Ranges of four records ([1,5), [5,9), ...) put damage on range edges as well as inside ranges.
const PARALLEL = { threads: 2, rangeSize: 4, parallelFrom: 0 };
const SEQUENTIAL = { threads: 1, parallelFrom: Number.MAX_SAFE_INTEGER };
const ROOTS_AT = new Set([0, 4, 5, 13, 29, 30]);

/** The verdict over worker threads, asserted identical to the sequential one, which it returns. */
async function sameVerdict(pool: pg.Pool, deep = false) {
  assert.ok(verifyWorkerFile(), 'the compiled worker is there, so the threads really run');
  const options = { deep, rootsAt: ROOTS_AT };
  const sequential = await verifyStoredChain(pool, 'main', { ...options, ...SEQUENTIAL });
  const parallel = await verifyStoredChain(pool, 'main', { ...options, ...PARALLEL });
  assert.deepEqual(parallel, sequential, 'threads and one thread give the same verdict');
  return sequential;
}

async function ledgerOf(t: Context, drafts: RecordDraft[] = Array.from({ length: RECORDS }, (_, i) => note(i + 1))) {
  const ledger = await freshLedger(t);
  await new GroupCommitAppender(ledger.pool).appendAll(drafts);
  return ledger.pool;
}

const rehash = (seq: number) =>
  `UPDATE writ.records SET hash = digest(prev_hash || canonical, 'sha256') WHERE seq = ${seq}`;

const TAMPERS: [string, string[], { seq: number; code: string } | null][] = [
  ['nothing', [], null],
  [
    "a copy edited in a range's first record",
    [`UPDATE writ.records SET record = jsonb_set(record, '{payload,i}', '0') WHERE seq = 9`],
    { seq: 9, code: 'COPY_MISMATCH' },
  ],
  [
    'canonical bytes edited inside a range',
    [
      `UPDATE writ.records SET canonical = convert_to(replace(convert_from(canonical, 'UTF8'), 'note 14', 'note X'), 'UTF8') WHERE seq = 14`,
    ],
    { seq: 14, code: 'HASH_MISMATCH' },
  ],
  [
    "a range's last hash forged",
    [`UPDATE writ.records SET hash = digest('forged', 'sha256') WHERE seq = 12`],
    { seq: 12, code: 'HASH_MISMATCH' },
  ],
  ["a range's first record deleted", ['DELETE FROM writ.records WHERE seq = 13'], { seq: 13, code: 'RECORD_MISSING' }],
  [
    'records deleted across two range edges',
    ['DELETE FROM writ.records WHERE seq BETWEEN 11 AND 18'],
    { seq: 11, code: 'RECORD_MISSING' },
  ],
  ['the last records deleted', ['DELETE FROM writ.records WHERE seq > 28'], null],
  [
    'two records swapped across a range edge',
    [
      'UPDATE writ.records SET seq = seq + 1000000 WHERE seq IN (16, 17)',
      'UPDATE writ.records SET seq = CASE WHEN seq = 1000016 THEN 17 ELSE 16 END WHERE seq > 1000000',
    ],
    { seq: 16, code: 'CHAIN_LINK_BROKEN' },
  ],
  [
    'a relinked record with non-canonical bytes',
    [
      `UPDATE writ.records SET canonical = convert_to(replace(convert_from(canonical, 'UTF8'), '{"', '{ "'), 'UTF8') WHERE seq = 30`,
      rehash(30),
    ],
    { seq: 30, code: 'NOT_CANONICAL' },
  ],
  [
    'an unknown format version in bytes and copy, rehashed',
    [
      `UPDATE writ.records SET canonical = convert_to(replace(convert_from(canonical, 'UTF8'), '"v":1', '"v":2'), 'UTF8'), record = jsonb_set(record, '{v}', '2') WHERE seq = 30`,
      rehash(30),
    ],
    { seq: 30, code: 'UNKNOWN_FORMAT' },
  ],
];

describe('verification over worker threads names what verification on one thread names', () => {
  for (const [what, statements, expected] of TAMPERS) {
    test(`when ${what}, both give the same verdict, quick and deep`, async (t) => {
      const pool = await ledgerOf(t);
      for (const sql of statements) await tamper(pool, sql);
      const verdict = await sameVerdict(pool);
      await sameVerdict(pool, true);
      assert.deepEqual(verdict.damage && { seq: verdict.damage.seq, code: verdict.damage.code }, expected);
    });
  }

  test('a forged record appended with a self-consistent hash breaks the link at its seq on both', async (t) => {
    const pool = await ledgerOf(t);
    const forged = Buffer.from(JSON.stringify({ v: 1, chain: 'main', forged: true }));
    const fakePrev = Buffer.alloc(32, 7);
    await tamper(
      pool,
      `INSERT INTO writ.records (seq, canonical, record, prev_hash, hash, recorded_at)
       VALUES (31, $1, convert_from($1, 'UTF8')::jsonb, $2, $3, now())`,
      [forged, fakePrev, createHash('sha256').update(fakePrev).update(forged).digest()],
    );
    assert.equal((await sameVerdict(pool)).damage?.code, 'CHAIN_LINK_BROKEN');
  });

  test('illegal operation paths whose records fall in different ranges are found in the same order', async (t) => {
    const actor = { id: 'writ', kind: 'service' as const };
    const state = (operationId: string, s: string): RecordDraft => ({
      type: 'manual.note',
      operationId,
      state: s,
      actor,
      payload: {},
    });
    const close = (operationId: string): RecordDraft => ({
      type: 'operation.closed',
      operationId,
      state: 'closed',
      actor,
      payload: { outcome: 'succeeded', path: ['planned', 'closed'] },
    });
    const drafts = [
      state('op-a', 'planned'),
      note(1),
      state('op-b', 'planned'),
      state('op-a', 'executing'),
      state('op-a', 'executing'),
      close('op-a'),
      note(2),
      close('op-b'),
      close('op-a'),
      note(3),
      state('op-b', 'executed'),
      close('op-b'),
    ];
    const verdict = await sameVerdict(await ledgerOf(t, drafts));
    assert.ok(verdict.ok);
    assert.ok(verdict.illegalPaths.length >= 3, JSON.stringify(verdict.illegalPaths));
  });
});
