import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type pg from 'pg';
import type { ScopeRequest } from '../../src/privacy/hold-input.js';
import { activeHolds, allHolds, holdCovering, placeHold, releaseHold } from '../../src/privacy/holds.js';
import { holdProjectionDisagreements } from '../../src/privacy/holds-check.js';
import { freshLedger } from '../support/db.js';
import { tamper } from '../support/records.js';
import { refusal } from '../support/roles.js';

const CORRELATION = '4bf92f3577b34da6a3ce929d0e0e4736';

function place(pool: pg.Pool, scope: ScopeRequest, reason = 'litigation'): Promise<string> {
  return placeHold(pool, { scope, reason, by: 'counsel' }).then((receipt) => receipt.holdId);
}

describe('writ.hold_covering', () => {
  test('matches each kind of scope, misses what it does not cover, and stops matching once released', async (t) => {
    const { pool } = await freshLedger(t);
    const byOperation = await place(pool, { operationId: 'op-1' });
    const byCorrelation = await place(pool, { correlationId: CORRELATION.toUpperCase() });
    const byActor = await place(pool, { actorId: 'Dave' });
    const byTime = await place(pool, { from: '2025-01-01', to: '2025-01-31' });

    assert.equal(await holdCovering(pool, { operationId: 'op-1' }), byOperation);
    assert.equal(await holdCovering(pool, { correlationId: CORRELATION }), byCorrelation);
    assert.equal(await holdCovering(pool, { actorId: 'dave' }), byActor);
    assert.equal(await holdCovering(pool, { actorId: ' Dave' }), byActor, 'an id as typed matches its canonical form');
    for (const at of ['2025-01-01T00:00:00Z', '2025-01-15T12:00:00Z', '2025-01-31T23:59:59.999Z'])
      assert.equal(await holdCovering(pool, { occurredAt: at }), byTime, at);
    const uncovered = { operationId: 'op-2', correlationId: 'f'.repeat(32), actorId: 'erin' };
    for (const at of ['2024-12-31T23:59:59.999Z', '2025-02-01T00:00:00Z'])
      assert.equal(await holdCovering(pool, { ...uncovered, occurredAt: at }), null, at);
    // A record is held when any one of its facts is: holds combine as a union.
    assert.equal(
      await holdCovering(pool, { ...uncovered, actorId: 'dave', occurredAt: new Date('2026-01-01') }),
      byActor,
    );

    for (const holdId of [byOperation, byCorrelation, byActor, byTime])
      await releaseHold(pool, { holdId, reason: 'settled', by: 'counsel' });
    assert.equal(await holdCovering(pool, { operationId: 'op-1' }), null);
    assert.equal(await holdCovering(pool, { correlationId: CORRELATION }), null);
    assert.equal(await holdCovering(pool, { actorId: 'dave' }), null);
    assert.equal(await holdCovering(pool, { occurredAt: '2025-01-15T12:00:00Z' }), null);
    assert.deepEqual(await activeHolds(pool), []);
  });

  test('the oldest of two holds covering one value is named, and the other still holds after it is released', async (t) => {
    const { pool } = await freshLedger(t);
    const first = await place(pool, { operationId: 'op-1' });
    const second = await place(pool, { operationId: 'op-1' }, 'a second matter');
    assert.equal(await holdCovering(pool, { operationId: 'op-1' }), first);
    await releaseHold(pool, { holdId: first, reason: 'first matter closed', by: 'counsel' });
    assert.equal(await holdCovering(pool, { operationId: 'op-1' }), second);
  });

  test('refuses to answer under a snapshot isolation level, where a newer hold could go unseen', async (t) => {
    const { pool } = await freshLedger(t);
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      const error = await refusal(client.query(`SELECT writ.hold_covering('op-1', NULL, NULL, NULL)`));
      assert.equal(error.code, 'WRT01', error.message);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

describe('the holds projection', () => {
  test('agrees with the ledger after many holds placed and released, and names a row edited behind its back', async (t) => {
    const { pool } = await freshLedger(t);
    const scopes: ScopeRequest[] = [
      { operationId: 'op-a' },
      { correlationId: CORRELATION },
      { actorId: 'frank' },
      { from: '2024-06-01T00:00:00+02:00', to: '2024-06-30' },
    ];
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await place(pool, scopes[i % scopes.length]!, `matter ${i}`));
    for (const holdId of ids.filter((_, i) => i % 3 === 0))
      await releaseHold(pool, { holdId, reason: 'closed', by: 'grace' });
    assert.deepEqual(await holdProjectionDisagreements(pool), []);
    assert.equal((await allHolds(pool)).length, 40);
    assert.equal((await activeHolds(pool)).length, 40 - 14);
    const [first] = await allHolds(pool);
    assert.deepEqual(first!.scope, { operationId: 'op-a' });
    assert.deepEqual((await allHolds(pool))[3]!.scope, {
      from: '2024-05-31T22:00:00.000Z',
      to: '2024-06-30T23:59:59.999Z',
    });

    await tamper(pool, `UPDATE writ.holds SET scope_operation_id = 'op-b' WHERE hold_id = $1 AND event = 'placed'`, [
      ids[4],
    ]);
    await tamper(pool, `DELETE FROM writ.holds WHERE hold_id = $1 AND event = 'released'`, [ids[3]]);
    const problems = await holdProjectionDisagreements(pool);
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems.join('\n'), new RegExp(`${ids[4]} placed: scope`));
    assert.match(problems.join('\n'), new RegExp(`${ids[3]} released: on the ledger .* but not in writ.holds`));
  });

  test('concurrent places and releases stay consistent: one release of a hold wins, the rest are refused whole', async (t) => {
    const { pool } = await freshLedger(t);
    const placed = await Promise.all(Array.from({ length: 16 }, (_, i) => place(pool, { actorId: `person-${i}` })));
    assert.equal(new Set(placed).size, 16);

    const contested = placed[0]!;
    const attempts = await Promise.allSettled([
      ...Array.from({ length: 6 }, (_, i) => releaseHold(pool, { holdId: contested, reason: `release ${i}`, by: 'h' })),
      // Meanwhile others place and release holds of their own.
      ...placed.slice(1, 6).map((holdId) => releaseHold(pool, { holdId, reason: 'done', by: 'h' })),
      ...Array.from({ length: 5 }, (_, i) => place(pool, { operationId: `op-${i}` })),
    ]);
    const contestedOutcomes = attempts.slice(0, 6);
    assert.equal(contestedOutcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
    for (const outcome of contestedOutcomes.filter((o) => o.status === 'rejected'))
      assert.match(String((outcome as PromiseRejectedResult).reason), /nothing recorded: .*already released/);
    assert.ok(attempts.slice(6).every((outcome) => outcome.status === 'fulfilled'));

    const releases = await pool.query(
      `SELECT count(*)::int AS n FROM writ.records WHERE event_type = 'hold.released' AND record -> 'payload' ->> 'holdId' = $1`,
      [contested],
    );
    assert.equal(releases.rows[0].n, 1, 'the ledger holds exactly one release of the contested hold');
    assert.equal((await activeHolds(pool)).length, 16 - 6 + 5);
    assert.deepEqual(await holdProjectionDisagreements(pool), []);
    assert.equal(await holdCovering(pool, { actorId: 'person-0' }), null);
    assert.equal(await holdCovering(pool, { actorId: 'person-9' }), placed[9]);
  });
});
