/**
 * A worker killed right after its compensation recorded the step's failure. The retry finds that
 * record under the same key; so does the workflow's own report of the failure when every retry
 * times out. Either way the operation must reach needs_intervention with one failure record for
 * the step, not fail its workflow and leave the operation without a way to close.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import type { TestLedger } from '../support/db.js';
import { freshLedger } from '../support/db.js';
import { workerKilledAt } from '../support/fault-worker.js';
import { ledgerEvents, waitForRecord, waitForState } from '../support/writ.js';

/**
 * The CRM's own rules, as triggers: a raised tier is rewritten (so verification fails and the
 * write is rolled back) and a restored one is refused (so the rollback fails), each refusal in words
 * of its own. From the second rollback on, the refusal comes only after `retryDelayS`.
 */
async function crmWithRules(ledger: TestLedger, retryDelayS: number): Promise<void> {
  await ledger.pool.query(`
    CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL);
    INSERT INTO accounts VALUES (42, 'Acme', 'silver');
    CREATE SEQUENCE rollback_attempts;
    CREATE FUNCTION crm_rules() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE attempt bigint;
    BEGIN
      IF NEW.tier = 'gold' THEN NEW.tier := 'platinum'; END IF;
      IF NEW.tier = 'silver' THEN
        attempt := nextval('rollback_attempts');
        IF attempt > 1 THEN PERFORM pg_sleep(${retryDelayS}); END IF;
        RAISE EXCEPTION 'the CRM is read-only for maintenance (refusal %)', attempt;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER crm_rules BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION crm_rules();`);
}

const cases = [
  { name: 'the retry fails too, and finds its first attempt’s records', retryDelayS: 0, refusedReports: 0 },
  { name: 'every retry times out, and the workflow’s own report finds the record', retryDelayS: 4, refusedReports: 1 },
];

describe('when the worker is killed (SIGKILL) right after a compensation recorded its failure', () => {
  for (const { name, retryDelayS, refusedReports } of cases) {
    test(`${name}: the operation needs intervention, with one failure record for the step`, async (t) => {
      const ledger = await freshLedger(t);
      await crmWithRules(ledger, retryDelayS);
      const { writ, start, restart } = await workerKilledAt(t, ledger, 'after-compensation-failed-record');
      const operationId = await start();
      await restart();
      await waitForState(writ, operationId, 'needs_intervention', 90_000);
      await waitForRecord(ledger, operationId, 'operation.needs_intervention');

      const events = await ledgerEvents(ledger, operationId);
      const types = events.map((e) => e.type);
      assert.equal(types.filter((type) => type === 'step.compensation_failed').length, 1, types.join(', '));
      assert.deepEqual(types.slice(-2), ['operation.compensation_failed', 'operation.needs_intervention']);
      const failure = events.find((e) => e.type === 'step.compensation_failed')!;
      assert.match(String(failure.payload.error), /read-only for maintenance \(refusal 1\)/);

      // A retry's own records are taken as its first attempt's; the workflow's report, refused, is
      // kept as a conflict so the ledger still shows what it tried to say.
      const conflicts = await ledger.pool.query(
        `SELECT seq FROM writ.records WHERE event_type = 'ledger.key_conflict'`,
      );
      assert.equal(conflicts.rows.length, refusedReports, `conflict records: ${conflicts.rows.length}`);
      const [verdict] = await verifyStoredLedger(ledger.pool);
      assert.equal(verdict?.ok, true);
    });
  }
});
