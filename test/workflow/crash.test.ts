import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FaultPoint } from '../../src/activities/governed/faults.js';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import { freshLedger } from '../support/db.js';
import { workerKilledAt } from '../support/fault-worker.js';
import { ledgerEvents } from '../support/writ.js';

const POINTS: FaultPoint[] = [
  'after-plan',
  'after-validate',
  'before-execute',
  'after-execute',
  'after-executed-record',
  'after-verify',
  'before-close',
];

describe('when the worker is killed (SIGKILL) at a lifecycle stage and restarted', () => {
  for (const point of POINTS) {
    test(`at ${point}: the operation completes, no record is duplicated or missing, and the row changed exactly once`, async (t) => {
      const ledger = await freshLedger(t);
      await ledger.pool.query(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL)`);
      await ledger.pool.query(`INSERT INTO accounts VALUES (42, 'Acme', 'silver')`);
      // Counts real changes to the row, whoever makes them.
      await ledger.pool.query(`CREATE TABLE row_changes (n int NOT NULL); INSERT INTO row_changes VALUES (0);
        CREATE FUNCTION count_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE row_changes SET n = n + 1; RETURN NEW; END $$;
        CREATE TRIGGER count_change AFTER UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION count_change();`);
      const { writ, start, restart } = await workerKilledAt(t, ledger, point);
      const operationId = await start();
      await restart();
      const result = await writ.result(operationId);
      assert.equal(result.outcome, 'succeeded');

      const events = await ledgerEvents(ledger, operationId);
      assert.deepEqual(
        events.map((e) => e.type),
        [
          'operation.planned',
          'policy.decided',
          'operation.validated',
          'step.executing',
          'step.executed',
          'step.verifying',
          'step.verified',
          'operation.closed',
        ],
      );
      assert.equal((await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier, 'gold');
      assert.equal(
        (await ledger.pool.query('SELECT n FROM row_changes')).rows[0].n,
        1,
        'the row was changed exactly once',
      );
      const [verdict] = await verifyStoredLedger(ledger.pool);
      assert.equal(verdict?.ok, true);
    });
  }
});
