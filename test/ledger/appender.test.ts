import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BatchReport } from '../../src/ledger/appender.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import { InvalidRecordError } from '../../src/ledger/record.js';
import { freshLedger } from '../support/db.js';
import { note } from '../support/records.js';

async function count(pool: { query: (sql: string) => Promise<{ rows: Array<{ n: number }> }> }): Promise<number> {
  return (await pool.query('SELECT count(*)::int AS n FROM writ.records')).rows[0]!.n;
}

describe('appending to the ledger', () => {
  test('the same event twice under one idempotency key gives one record, and the second call gets the first back', async (t) => {
    const { pool } = await freshLedger(t);
    const appender = new GroupCommitAppender(pool);
    const first = await appender.append(note(1, { idempotencyKey: 'manual/op-1/1' }));
    const second = await appender.append(note(1, { idempotencyKey: 'manual/op-1/1' }));
    assert.equal(first.duplicate, false);
    assert.equal(second.duplicate, true);
    assert.equal(second.seq, first.seq);
    assert.equal(second.eventId, first.eventId);
    assert.equal(second.hash, first.hash);
    assert.equal(await count(pool), 1);
  });

  test('duplicates inside one batch are written once and every caller learns the same record', async (t) => {
    const { pool } = await freshLedger(t);
    const results = await new GroupCommitAppender(pool).appendAll([
      note(1, { idempotencyKey: 'manual/k' }),
      note(1, { idempotencyKey: 'manual/k' }),
      note(3),
    ]);
    assert.equal(results[0]!.seq, results[1]!.seq);
    assert.deepEqual(
      results.map((r) => r.duplicate),
      [false, true, false],
    );
    assert.equal(await count(pool), 2);
  });

  // The unique index, not a pre-check, finds a taken key (append-sql.ts): the batch's statement is
  // refused whole, and its other units are written in the next round on the same connection.
  test('a batch that meets a taken key writes its new records in the next round and returns the earlier one', async (t) => {
    const { pool } = await freshLedger(t);
    const batches: BatchReport[] = [];
    const appender = new GroupCommitAppender(pool, { maxInFlight: 1, onBatch: (report) => batches.push(report) });
    const first = await appender.append(note(1, { idempotencyKey: 'manual/taken' }));
    const [again, fresh, other] = await Promise.all([
      appender.append(note(1, { idempotencyKey: 'manual/taken' })),
      appender.append(note(2, { idempotencyKey: 'manual/new-1' })),
      appender.append(note(3, { idempotencyKey: 'manual/new-2' })),
    ]);
    assert.equal(batches.length, 2, 'the three appends went as one batch');
    assert.equal(batches[1]!.records, 3);
    assert.equal(batches[1]!.backendPid, batches[0]!.backendPid, 'the refused statement kept its connection');
    assert.deepEqual([again!.duplicate, again!.seq, again!.eventId], [true, first.seq, first.eventId]);
    assert.deepEqual(
      [fresh!, other!].map((r) => [r.duplicate, r.seq]),
      [
        [false, 2],
        [false, 3],
      ],
    );
    assert.equal(await count(pool), 3);
    assert.equal((await verifyStoredLedger(pool, { deep: true }))[0]?.ok, true);
  });

  test('a set with one invalid record is refused whole, naming the field, and writes nothing', async (t) => {
    const { pool } = await freshLedger(t);
    const appender = new GroupCommitAppender(pool);
    await assert.rejects(
      appender.appendAll([note(1), { ...note(2), actor: { id: '', kind: 'robot' } } as never, note(3)]),
      (error: Error) =>
        error instanceof InvalidRecordError &&
        /record 2: actor\.id/.test(error.message) &&
        /actor\.kind/.test(error.message),
    );
    await assert.rejects(
      appender.append(note(1, { payload: { text: 'nul \u0000 byte' } })),
      /payload\.text: contains a NUL/,
    );
    assert.equal(await count(pool), 0);
  });

  test('64 concurrent appenders writing thousands of records give one gapless chain that verifies', async (t) => {
    const { pool } = await freshLedger(t);
    const batches: BatchReport[] = [];
    const appender = new GroupCommitAppender(pool, { onBatch: (report) => batches.push(report) });
    const perWorker = 60;
    const seen = await Promise.all(
      Array.from({ length: 64 }, async (_, worker) => {
        const seqs: number[] = [];
        for (let i = 0; i < perWorker; i++)
          seqs.push((await appender.append(note(i, { idempotencyKey: `manual/w${worker}-${i}` }))).seq);
        return seqs;
      }),
    );
    const all = seen.flat().sort((a, b) => a - b);
    assert.equal(all.length, 64 * perWorker);
    assert.deepEqual(
      all,
      Array.from({ length: all.length }, (_, i) => i + 1),
      'every caller got a distinct, gapless sequence number',
    );
    assert.ok(
      batches.length < all.length / 4,
      `appends were coalesced (${batches.length} batches for ${all.length} records)`,
    );
    const [verdict] = await verifyStoredLedger(pool);
    assert.equal(verdict?.ok, true);
    assert.equal(verdict?.records, all.length);
  });

  test('a backend killed mid-batch loses no committed record, writes no partial batch, and the chain verifies', async (t) => {
    const { pool } = await freshLedger(t);
    const batches: BatchReport[] = [];
    const appender = new GroupCommitAppender(pool, { maxBatch: 200, onBatch: (report) => batches.push(report) });
    const killer = await pool.connect();
    const outcomes: Array<{ key: string; ok: boolean; seq?: number }> = [];
    let killed = 0;
    const writers = Array.from({ length: 32 }, async (_, worker) => {
      for (let i = 0; i < 80; i++) {
        const key = `manual/w${worker}-${i}`;
        try {
          const result = await appender.append(note(i, { idempotencyKey: key, payload: { blob: 'x'.repeat(2000) } }));
          outcomes.push({ key, ok: true, seq: result.seq });
        } catch {
          outcomes.push({ key, ok: false });
        }
      }
    });
    let writing = true;
    const written = Promise.all(writers).finally(() => (writing = false));
    // Keeps killing backends caught inside an INSERT until one of them takes a batch down with it
    // (a backend may finish its statement just before the kill lands), for as long as writers run.
    const assassin = (async () => {
      while (writing && killed < 20 && !batches.some((batch) => !batch.ok)) {
        const active = await killer.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'writ-test'
             AND state = 'active' AND query LIKE '%INSERT INTO writ.records%' AND pid <> pg_backend_pid()`,
        );
        for (const { pid } of active.rows) {
          await killer.query('SELECT pg_terminate_backend($1)', [pid]);
          killed++;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await Promise.all([written, assassin]);
    killer.release();
    assert.ok(killed > 0, 'at least one backend was killed while it was writing a batch');
    assert.ok(
      batches.some((batch) => !batch.ok),
      'at least one batch failed because of it',
    );

    const stored = await pool.query<{ idempotency_key: string; seq: number }>(
      'SELECT idempotency_key, seq FROM writ.records',
    );
    const storedByKey = new Map(stored.rows.map((row) => [row.idempotency_key, row.seq]));
    for (const outcome of outcomes.filter((o) => o.ok)) {
      assert.equal(
        storedByKey.get(outcome.key),
        outcome.seq,
        `committed record ${outcome.key} is still there at its sequence number`,
      );
    }
    for (const batch of batches.filter((b) => !b.ok)) {
      const present = batch.idempotencyKeys.filter((key) => storedByKey.has(key)).length;
      assert.ok(
        present === 0 || present === batch.idempotencyKeys.length,
        `a failed batch is all or nothing (${present} of ${batch.idempotencyKeys.length} stored)`,
      );
    }
    // Every failed caller retries with its key: it gets the record its batch committed before the
    // connection died (the reply was lost), or writes it now; never twice.
    for (const outcome of outcomes.filter((o) => !o.ok)) {
      const i = Number(outcome.key.split('-')[1]);
      await appender.append(note(i, { idempotencyKey: outcome.key, payload: { blob: 'x'.repeat(2000) } }));
    }
    assert.equal(await count(pool), 32 * 80, 'after retries every record is there exactly once');
    const [verdict] = await verifyStoredLedger(pool);
    assert.equal(verdict?.ok, true, JSON.stringify(verdict?.damage));
  });
});
