import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type pg from 'pg';
import type { PlaceHoldInput } from '../../src/privacy/holds.js';
import { placeHold, releaseHold } from '../../src/privacy/holds.js';
import { freshLedger } from '../support/db.js';
import { refusal } from '../support/roles.js';

async function recordCount(pool: pg.Pool): Promise<number> {
  return (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM writ.records')).rows[0]!.n;
}

const ok = { reason: 'subpoena', by: 'eve' };

describe('placing and releasing holds: bad input', () => {
  test('each bad request is refused as a usage error naming what was wrong, and appends nothing', async (t) => {
    const { pool } = await freshLedger(t);
    const { holdId } = await placeHold(pool, { scope: { actorId: 'dave' }, ...ok });
    await releaseHold(pool, { holdId, reason: 'quashed', by: 'eve' });
    const before = await recordCount(pool);

    const places: Array<[PlaceHoldInput, RegExp]> = [
      [{ scope: {}, ...ok }, /give one scope: an operation, a correlation id, an actor, or from and to/],
      [{ scope: { operationId: 'op', actorId: 'dave' }, ...ok }, /one scope only, not an operation and an actor/],
      [{ scope: { correlationId: 'a'.repeat(32), from: '2025-01-01', to: '2025-02-01' }, ...ok }, /one scope only/],
      [
        { scope: { from: '2025-03-01', to: '2025-02-01' }, ...ok },
        /starts \(2025-03-01\) after it ends \(2025-02-01\)/,
      ],
      [{ scope: { from: '2025-03-01T10:00:00Z', to: '2025-03-01T09:59:59Z' }, ...ok }, /after it ends/],
      [{ scope: { from: '2025-03-01' }, ...ok }, /needs both from and to/],
      [{ scope: { to: '2025-03-01' }, ...ok }, /needs both from and to/],
      [{ scope: { from: '2025-02-30', to: '2025-03-01' }, ...ok }, /"2025-02-30" is not a real date/],
      [{ scope: { from: 'yesterday', to: '2025-03-01' }, ...ok }, /"yesterday" is not a date/],
      [{ scope: { from: '2025-03-01T10:00:00', to: '2025-03-02' }, ...ok }, /RFC 3339 time with an offset/],
      [{ scope: { correlationId: 'abc' }, ...ok }, /32 hex digits/],
      [{ scope: { operationId: '  ' }, ...ok }, /the operation id is empty/],
      [{ scope: { actorId: 'da\u200bve' }, ...ok }, /the actor: .*invisible/],
      [{ scope: { operationId: 'op' }, reason: '   ', by: 'eve' }, /give a reason/],
      [{ scope: { operationId: 'op' }, reason: 'x'.repeat(2001), by: 'eve' }, /reason is longer than 2000/],
      [{ scope: { operationId: 'op' }, reason: 'r', by: '' }, /who \(--by\): the id is empty/],
    ];
    for (const [input, expected] of places) {
      const error = await refusal(placeHold(pool, input));
      assert.equal((error as { code?: string }).code, 'USAGE', error.message);
      assert.match(error.message, /^refused, nothing recorded: /);
      assert.match(error.message, expected);
    }
    const releases: Array<[Parameters<typeof releaseHold>[1], RegExp]> = [
      [{ holdId, reason: 'again', by: 'eve' }, new RegExp(`hold ${holdId} was already released, by eve at `)],
      [
        { holdId: '6f1c2a8e-0000-4000-8000-000000000000', ...ok },
        /there is no hold 6f1c2a8e-0000-4000-8000-000000000000/,
      ],
      [{ holdId: 'not-a-uuid', ...ok }, /"not-a-uuid" is not a hold id/],
      [{ holdId, reason: '', by: 'eve' }, /give a reason/],
      [{ holdId, reason: 'r', by: ' ' }, /who \(--by\)/],
    ];
    for (const [input, expected] of releases) {
      const error = await refusal(releaseHold(pool, input));
      assert.equal((error as { code?: string }).code, 'USAGE', error.message);
      assert.match(error.message, expected);
    }
    assert.equal(await recordCount(pool), before, 'nothing refused was appended');
  });
});
