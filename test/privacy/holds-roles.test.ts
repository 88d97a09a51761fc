import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { prepareRecord } from '../../src/ledger/record.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import { holdCovering, placeHold } from '../../src/privacy/holds.js';
import { freshLedger } from '../support/db.js';
import { note } from '../support/records.js';
import { asRole, refusal } from '../support/roles.js';

const person = { id: 'mallory', kind: 'user' as const, groups: [], identity: 'asserted' as const };

function holdRecord(type: 'hold.placed' | 'hold.released', payload: RecordDraft['payload']): Buffer {
  const draft: RecordDraft = { type, actor: person, payload };
  return prepareRecord(draft).canonical;
}

function insertAs(pool: pg.Pool, role: string, canonical: Buffer) {
  return asRole(pool, role, (c) => c.query('INSERT INTO writ.records (canonical) VALUES ($1)', [canonical]));
}

async function placedOverOperation(pool: pg.Pool, operationId: string): Promise<string> {
  return (await placeHold(pool, { scope: { operationId }, reason: 'litigation', by: 'counsel' })).holdId;
}

describe('who may touch holds', () => {
  test('the writer role (the worker login) can read writ.holds and cannot insert, update, delete or truncate it', async (t) => {
    const { pool } = await freshLedger(t);
    const holdId = await placedOverOperation(pool, 'op-1');
    const seen = await asRole(pool, 'writ_writer', (c) => c.query('SELECT hold_id::text FROM writ.holds'));
    assert.deepEqual(seen.rows, [{ hold_id: holdId }]);
    for (const sql of [
      `INSERT INTO writ.holds (hold_id, event, chain_id, seq, event_id, occurred_at, recorded_at, by_id, reason)
       VALUES ('${holdId}', 'released', 'main', 99, 'forged', now(), now(), 'mallory', 'forged release')`,
      `UPDATE writ.holds SET scope_operation_id = 'op-other'`,
      `DELETE FROM writ.holds`,
      `TRUNCATE writ.holds`,
    ]) {
      const error = await refusal(asRole(pool, 'writ_writer', (c) => c.query(sql)));
      assert.equal(error.code, '42501', `${sql}: ${error.message}`);
    }
    assert.equal(await holdCovering(pool, { operationId: 'op-1' }), holdId, 'the hold still holds');
  });

  test('the writer role cannot release a hold (or place one) by appending the record itself', async (t) => {
    const { pool } = await freshLedger(t);
    const holdId = await placedOverOperation(pool, 'op-1');
    for (const canonical of [
      holdRecord('hold.released', { holdId, reason: 'nobody is looking' }),
      holdRecord('hold.placed', { holdId: randomUUID(), scope: { operationId: 'op-2' }, reason: 'decoy' }),
    ]) {
      const error = await refusal(insertAs(pool, 'writ_writer', canonical));
      assert.equal(error.code, '42501', error.message);
      assert.match(error.message, /row-level security/);
    }
    assert.equal(await holdCovering(pool, { operationId: 'op-1' }), holdId);
    const count = await pool.query(`SELECT count(*)::int AS n FROM writ.records WHERE event_type LIKE 'hold.%'`);
    assert.equal(count.rows[0].n, 1);
    // Everything else the writer appended before, it still can.
    await insertAs(pool, 'writ_writer', prepareRecord(note(1)).canonical);
  });

  test('the hold keeper may append hold records and nothing else', async (t) => {
    const { pool } = await freshLedger(t);
    const holdId = randomUUID();
    await insertAs(
      pool,
      'writ_hold_keeper',
      holdRecord('hold.placed', { holdId, scope: { actorId: 'dave' }, reason: 'r' }),
    );
    assert.equal(await holdCovering(pool, { actorId: 'dave' }), holdId);
    const error = await refusal(insertAs(pool, 'writ_hold_keeper', prepareRecord(note(1)).canonical));
    assert.equal(error.code, '42501', error.message);
  });

  test('even the owner meets the trigger: update, delete and truncate of writ.holds are refused', async (t) => {
    const { pool } = await freshLedger(t);
    const holdId = await placedOverOperation(pool, 'op-1');
    for (const sql of ['UPDATE writ.holds SET reason = reason', 'DELETE FROM writ.holds', 'TRUNCATE writ.holds']) {
      const error = await refusal(pool.query(sql));
      assert.equal(error.code, 'WRT30', `${sql}: ${error.message}`);
    }
    assert.equal(await holdCovering(pool, { operationId: 'op-1' }), holdId);
  });

  test('a hold record that bypasses the CLI is still refused whole when it makes no sense', async (t) => {
    const { pool } = await freshLedger(t);
    const holdId = await placedOverOperation(pool, 'op-1');
    const bad: Array<[Buffer, string, RegExp]> = [
      [holdRecord('hold.placed', { holdId: randomUUID(), scope: {}, reason: 'r' }), 'WRT31', /exactly one scope/],
      [
        holdRecord('hold.placed', { holdId: randomUUID(), scope: { operationId: 'a', actorId: 'b' }, reason: 'r' }),
        'WRT31',
        /exactly one scope/,
      ],
      [
        holdRecord('hold.placed', {
          holdId: randomUUID(),
          scope: { from: '2025-02-01T00:00:00.000Z', to: '2025-01-01T00:00:00.000Z' },
          reason: 'r',
        }),
        'WRT31',
        /from no later than to/,
      ],
      [
        holdRecord('hold.placed', { holdId: randomUUID(), scope: { operationId: 'a' }, reason: ' ' }),
        'WRT31',
        /reason/,
      ],
      [holdRecord('hold.placed', { holdId, scope: { operationId: 'a' }, reason: 'again' }), 'WRT31', /already placed/],
      [holdRecord('hold.released', { holdId: randomUUID(), reason: 'r' }), 'WRT32', /no hold/],
    ];
    for (const [canonical, code, message] of bad) {
      const error = await refusal(insertAs(pool, 'writ_hold_keeper', canonical));
      assert.equal(error.code, code, error.message);
      assert.match(error.message, message);
    }
    await insertAs(pool, 'writ_hold_keeper', holdRecord('hold.released', { holdId, reason: 'done' }));
    const twice = await refusal(
      insertAs(pool, 'writ_hold_keeper', holdRecord('hold.released', { holdId, reason: 'x' })),
    );
    assert.equal(twice.code, 'WRT33', twice.message);
    const { rows } = await pool.query(`SELECT event_type FROM writ.records ORDER BY seq`);
    assert.deepEqual(
      rows.map((row) => row.event_type),
      ['hold.placed', 'hold.released'],
    );
  });
});
