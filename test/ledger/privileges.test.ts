import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { prepareRecord } from '../../src/ledger/record.js';
import { freshLedger } from '../support/db.js';
import { appendNotes, note } from '../support/records.js';
import { asRole, refusal } from '../support/roles.js';

/** Runs one statement as `role` (SET ROLE drops superuser rights for the session). */
describe('the ledger is append-only for every role short of a superuser', () => {
  test('the writer role can append and read, and cannot update, delete or truncate', async (t) => {
    const { pool } = await freshLedger(t);
    await appendNotes(new GroupCommitAppender(pool), 3);
    const appended = await asRole(pool, 'writ_writer', (c) =>
      c.query('INSERT INTO writ.records (canonical) VALUES ($1) RETURNING seq', [prepareRecord(note(4)).canonical]),
    );
    assert.equal(appended.rows[0].seq, 4);
    assert.equal(
      (await asRole(pool, 'writ_writer', (c) => c.query('SELECT count(*)::int AS n FROM writ.records'))).rows[0].n,
      4,
    );
    for (const sql of [
      'UPDATE writ.records SET record = record WHERE seq = 1',
      'DELETE FROM writ.records WHERE seq = 1',
      'TRUNCATE writ.records',
    ]) {
      const error = await refusal(asRole(pool, 'writ_writer', (c) => c.query(sql)));
      assert.equal(error.code, '42501', `${sql} is refused by privileges: ${error.message}`);
    }
  });

  test('the reader role can read and cannot insert', async (t) => {
    const { pool } = await freshLedger(t);
    await appendNotes(new GroupCommitAppender(pool), 2);
    assert.equal(
      (await asRole(pool, 'writ_reader', (c) => c.query('SELECT count(*)::int AS n FROM writ.records'))).rows[0].n,
      2,
    );
    const canonical = prepareRecord(note(3)).canonical;
    const error = await refusal(
      asRole(pool, 'writ_reader', (c) => c.query('INSERT INTO writ.records (canonical) VALUES ($1)', [canonical])),
    );
    assert.equal(error.code, '42501');
  });

  test('even the table owner meets the trigger: update, delete and truncate are refused', async (t) => {
    const { pool } = await freshLedger(t);
    await appendNotes(new GroupCommitAppender(pool), 2);
    for (const sql of [
      'UPDATE writ.records SET record = record WHERE seq = 1',
      'DELETE FROM writ.records WHERE seq = 1',
      'TRUNCATE writ.records',
    ]) {
      const error = await refusal(pool.query(sql));
      assert.equal(error.code, 'WRT10', `${sql}: ${error.message}`);
      assert.match(error.message, /append-only/);
    }
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM writ.records')).rows[0].n, 2);
  });

  test("a client cannot choose its own link: a forged seq or hash is refused, and its record and clock are the ledger's", async (t) => {
    const { pool } = await freshLedger(t);
    await appendNotes(new GroupCommitAppender(pool), 2);
    const forgedPrev = Buffer.alloc(32, 9);
    const error = await refusal(
      asRole(pool, 'writ_writer', (c) =>
        c.query(
          `INSERT INTO writ.records (seq, canonical, record, prev_hash, hash, recorded_at)
           VALUES (99, $1, '{}'::jsonb, $2, $2, '2000-01-01') RETURNING seq`,
          [prepareRecord(note(3)).canonical, forgedPrev],
        ),
      ),
    );
    assert.equal(error.code, 'WRT08', error.message);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM writ.records')).rows[0].n, 2);

    // The right link is accepted, but what the writer says of the record and of the time is not.
    const canonical = prepareRecord(note(3)).canonical;
    const previous = (await pool.query<{ hash: Buffer }>('SELECT hash FROM writ.records WHERE seq = 2')).rows[0]!.hash;
    const linked = createHash('sha256').update(previous).update(canonical).digest();
    const result = await asRole(pool, 'writ_writer', (c) =>
      c.query(
        `INSERT INTO writ.records (seq, canonical, record, prev_hash, hash, recorded_at)
         VALUES (3, $1, '{}'::jsonb, $2, $3, '2000-01-01') RETURNING seq, record, recorded_at`,
        [canonical, previous, linked],
      ),
    );
    assert.equal(result.rows[0].seq, 3);
    assert.deepEqual(result.rows[0].record, JSON.parse(canonical.toString('utf8')));
    assert.ok(result.rows[0].recorded_at.getFullYear() > 2000);
  });

  test('appends at an isolation level that could fork the chain are refused', async (t) => {
    const { pool } = await freshLedger(t);
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      const error = await refusal(
        client.query('INSERT INTO writ.records (canonical) VALUES ($1)', [prepareRecord(note(1)).canonical]),
      );
      assert.equal(error.code, 'WRT01');
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });
});
