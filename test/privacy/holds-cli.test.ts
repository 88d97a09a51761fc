import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { runWrit } from '../support/cli.js';
import { freshLedger } from '../support/db.js';

async function recordCount(pool: pg.Pool): Promise<number> {
  return (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM writ.records')).rows[0]!.n;
}

function holdIdIn(stdout: string): string {
  const match = /placed hold ([0-9a-f-]{36})/.exec(stdout);
  assert.ok(match, `no hold id in: ${stdout}`);
  return match[1]!;
}

describe('writ hold', () => {
  test('add, list, release, list again: the released hold leaves the list and stays in --all', async (t) => {
    const ledger = await freshLedger(t);
    const env = { DATABASE_URL: ledger.url };
    const added = await runWrit(
      ['hold', 'add', '--operation', 'op-7', '--reason', 'litigation 2025-114', '--by', 'Legal.Counsel '],
      { env },
    );
    assert.equal(added.code, 0, added.stderr);
    const holdId = holdIdIn(added.stdout);
    const ranged = await runWrit(
      ['hold', 'add', '--from', '2025-01-01', '--to', '2025-01-31', '--reason', 'tax audit', '--by', 'bob'],
      { env },
    );
    assert.equal(ranged.code, 0, ranged.stderr);

    const listed = await runWrit(['hold', 'list', '--json'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    const holds = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(
      holds.map((hold) => [hold.scope, hold.reason, hold.placedBy, hold.released]),
      [
        [{ operationId: 'op-7' }, 'litigation 2025-114', 'legal.counsel', null],
        [{ from: '2025-01-01T00:00:00.000Z', to: '2025-01-31T23:59:59.999Z' }, 'tax audit', 'bob', null],
      ],
    );
    const text = await runWrit(['hold', 'list'], { env });
    assert.match(text.stdout, new RegExp(`${holdId}\\s+operation op-7`));

    // The record says who placed it, and that nothing proved who that was.
    const { rows } = await ledger.pool.query(
      `SELECT record FROM writ.records WHERE event_type = 'hold.placed' ORDER BY seq`,
    );
    assert.deepEqual(rows[0].record.actor, { id: 'legal.counsel', kind: 'user', groups: [], identity: 'asserted' });
    assert.deepEqual(rows[0].record.payload.identity, { verified: false, id: null, channel: 'asserted' });
    assert.equal(rows[0].record.payload.byAsGiven, 'Legal.Counsel ');

    const released = await runWrit(['hold', 'release', holdId, '--reason', 'case settled', '--by', 'carol'], { env });
    assert.equal(released.code, 0, released.stderr);
    assert.match(released.stdout, new RegExp(`released hold ${holdId}`));

    const active = JSON.parse((await runWrit(['hold', 'list', '--json'], { env })).stdout) as Array<{ scope: unknown }>;
    assert.deepEqual(
      active.map((hold) => hold.scope),
      [{ from: '2025-01-01T00:00:00.000Z', to: '2025-01-31T23:59:59.999Z' }],
    );
    const all = JSON.parse((await runWrit(['hold', 'list', '--all', '--json'], { env })).stdout) as Array<{
      holdId: string;
      released: { by: string; reason: string } | null;
    }>;
    assert.equal(all.length, 2);
    assert.deepEqual(
      { by: all[0]!.released?.by, reason: all[0]!.released?.reason },
      { by: 'carol', reason: 'case settled' },
    );
    assert.equal(await recordCount(ledger.pool), 3);
  });

  test('each bad input is refused with exit 2, says what was wrong, and appends nothing', async (t) => {
    const ledger = await freshLedger(t);
    const env = { DATABASE_URL: ledger.url };
    const placed = await runWrit(['hold', 'add', '--actor', 'dave', '--reason', 'subpoena', '--by', 'eve'], { env });
    assert.equal(placed.code, 0, placed.stderr);
    const holdId = holdIdIn(placed.stdout);
    const released = await runWrit(['hold', 'release', holdId, '--reason', 'quashed', '--by', 'eve'], { env });
    assert.equal(released.code, 0, released.stderr);
    const before = await recordCount(ledger.pool);

    // One of each kind through the CLI, for the exit code; test/privacy/holds-input has every case.
    const cases: Array<[string[], RegExp]> = [
      [['hold', 'add', '--reason', 'r', '--by', 'eve'], /give one scope/],
      [['hold', 'add', '--operation', 'op', '--actor', 'dave', '--reason', 'r', '--by', 'eve'], /one scope only/],
      [
        ['hold', 'add', '--from', '2025-03-01', '--to', '2025-02-01', '--reason', 'r', '--by', 'eve'],
        /starts .* after it ends/,
      ],
      [['hold', 'add', '--operation', 'op', '--reason', '   ', '--by', 'eve'], /give a reason/],
      [['hold', 'release', holdId, '--reason', 'again', '--by', 'eve'], /already released/],
      [['hold', 'release', '6f1c2a8e-0000-4000-8000-000000000000', '--reason', 'r', '--by', 'eve'], /no hold 6f1c2a8e/],
    ];
    for (const [args, expected] of cases) {
      const result = await runWrit(args, { env });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /nothing recorded/, args.join(' '));
      assert.match(result.stderr, expected, args.join(' '));
    }
    assert.equal(await recordCount(ledger.pool), before, 'no refused command appended anything');
  });
});
