import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { randomInt } from 'node:crypto';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { ConnectorInputError } from '../../src/connectors/types.js';
import { runConformance } from '../../src/connectors/conformance/index.js';
import type { TestLedger } from '../support/db.js';
import { freshLedger } from '../support/db.js';

let db: TestLedger;
const cleanups: Array<() => Promise<void>> = [];
before(async () => {
  db = await freshLedger({ after: (fn: () => Promise<void>) => cleanups.push(fn) });
  await db.pool.query(`CREATE TABLE crm_accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL, balance numeric NOT NULL DEFAULT 0)`);
});
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const connector = () => postgresConnector({ pool: db.pool });

async function row(id: number) {
  return (await db.pool.query('SELECT to_jsonb(a) AS row FROM crm_accounts a WHERE id = $1', [id])).rows[0]?.row ?? null;
}

async function existing() {
  const id = randomInt(1, 2 ** 31 - 1);
  await db.pool.query(`INSERT INTO crm_accounts VALUES ($1, 'Acme', 'silver', 10)`, [id]);
  return id;
}

const drift = (id: number) => async () => void (await db.pool.query(`UPDATE crm_accounts SET tier = 'drifted', balance = balance + 1 WHERE id = $1`, [id]));

runConformance({
  name: 'postgres', connector, action: 'update',
  badParams: [{ params: { set: {} }, field: 'set' }, { params: { set: { tier: 'x' }, where: 'id > 0' }, field: 'where' }, { params: { set: 'gold' }, field: 'set' }],
  fixture: async () => {
    const id = await existing();
    return { target: `public.crm_accounts/${id}`, params: { set: { tier: 'gold', balance: 99.5 } }, readActual: () => row(id), drift: drift(id) };
  },
});

runConformance({
  name: 'postgres', connector, action: 'insert',
  badParams: [{ params: {}, field: 'values' }, { params: { values: [] }, field: 'values' }],
  fixture: async () => {
    const id = randomInt(1, 2 ** 31 - 1);
    return { target: `crm_accounts/${id}`, params: { values: { name: 'Initech', tier: 'bronze' } }, readActual: () => row(id), drift: drift(id) };
  },
});

runConformance({
  name: 'postgres', connector, action: 'upsert',
  badParams: [{ params: { values: {} }, field: 'values' }],
  fixture: async () => {
    const id = await existing();
    return { target: `public.crm_accounts/${id}`, params: { values: { tier: 'platinum' } }, readActual: () => row(id), drift: drift(id) };
  },
});

runConformance({
  name: 'postgres', connector, action: 'delete',
  badParams: [{ params: { force: true }, field: 'force' }],
  fixture: async () => {
    const id = await existing();
    return {
      target: `public.crm_accounts/${id}`, params: {}, readActual: () => row(id),
      drift: async () => void (await db.pool.query(`INSERT INTO crm_accounts VALUES ($1, 'Resurrected', 'silver', 0) ON CONFLICT DO NOTHING`, [id])),
    };
  },
});

test('execute refuses, writing nothing, when the row changed after the snapshot it was given', async () => {
  const id = await existing();
  const target = `public.crm_accounts/${id}`;
  const update = connector().actions.update!;
  const call = { target, params: { set: { tier: 'gold' } } };
  const before = await update.snapshot(call);
  await drift(id)();
  const changed = await row(id);
  await assert.rejects(update.execute(call, { idempotencyKey: `stale-${id}`, before }), (error: Error) => {
    assert.ok(error instanceof ConnectorInputError);
    assert.match(error.message, new RegExp(`${target.replace(/[./]/g, '\\$&')} changed since it was read \\(version ${before.version}, now sha256:[0-9a-f]{64}\\); nothing was written`));
    return true;
  });
  assert.deepEqual(await row(id), changed, 'the other writer\'s row is untouched');
  // With a fresh snapshot the same write goes through.
  await update.execute(call, { idempotencyKey: `fresh-${id}`, before: await update.snapshot(call) });
  assert.equal((await row(id)).tier, 'gold');
});
