import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import { startWrit } from '../support/writ.js';

const OPERATIONS = Number(process.env.WRIT_CONCURRENCY_OPERATIONS ?? 1000);

test(`${OPERATIONS} concurrent operations end with one valid, gapless chain`, async (t) => {
  const { ledger, writ } = await startWrit(t);
  await ledger.pool.query(
    `INSERT INTO accounts SELECT g, 'account ' || g, 'silver' FROM generate_series(1000, ${999 + OPERATIONS}) g`,
  );
  const started = await Promise.all(
    Array.from({ length: OPERATIONS }, (_, i) =>
      writ.start({
        actor: { id: `svc-${i % 7}`, kind: 'service' },
        intent: `nightly tier sync ${i}`,
        steps: [
          {
            connector: 'postgres',
            action: 'update',
            target: `public.accounts/${1000 + i}`,
            params: { set: { tier: 'gold' } },
          },
        ],
      }),
    ),
  );
  const results = await Promise.all(started.map((op) => writ.result(op.operationId)));
  assert.deepEqual([...new Set(results.map((r) => r.outcome))], ['succeeded']);

  const [verdict] = await verifyStoredLedger(ledger.pool);
  assert.equal(verdict?.ok, true, JSON.stringify(verdict?.damage));
  // Eight records per operation, and the governance in force (one policy, one directory) once for all of them.
  const counts = await ledger.pool
    .query(`SELECT count(*) FILTER (WHERE operation_id IS NOT NULL)::int AS records, count(*) FILTER (WHERE event_type LIKE 'governance.%')::int AS governance,
                                                 count(DISTINCT operation_id)::int AS operations, max(seq)::int AS head FROM writ.records`);
  assert.deepEqual(counts.rows[0], {
    records: OPERATIONS * 8,
    governance: 2,
    operations: OPERATIONS,
    head: OPERATIONS * 8 + 2,
  });
  assert.equal(
    (await ledger.pool.query(`SELECT count(*)::int AS n FROM accounts WHERE tier = 'gold' AND id >= 1000`)).rows[0].n,
    OPERATIONS,
  );
});
