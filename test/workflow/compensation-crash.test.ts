/**
 * A worker killed right after its compensation recorded the step's failure. The retry finds that
 * record under the same key; so does the workflow's own report of the failure when every retry
 * times out. Either way the operation must reach needs_intervention with one failure record for
 * the step, not fail its workflow and leave the operation without a way to close.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { WritClient } from '../../src/client.js';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import type { TestLedger } from '../support/db.js';
import { freshLedger, temporalAddress } from '../support/db.js';
import { spawnWorker } from '../support/worker-process.js';
import { ledgerEvents, updateTier, waitForState } from '../support/writ.js';

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
      const marker = join(mkdtempSync(join(tmpdir(), 'writ-fault-')), 'fired');
      const env = {
        DATABASE_URL: ledger.url,
        WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE: 'true',
        TEMPORAL_ADDRESS: temporalAddress(),
        WRIT_TASK_QUEUE: `compensation-crash-${randomUUID()}`,
        WRIT_FAULT: 'after-compensation-failed-record',
        WRIT_FAULT_ONCE_FILE: marker,
      };
      const connection = await Connection.connect({ address: temporalAddress() });
      t.after(() => connection.close());
      const writ = new WritClient(new Client({ connection }), {
        taskQueue: env.WRIT_TASK_QUEUE,
        settings: { activityTimeoutMs: 2000 },
      });

      const first = await spawnWorker(env);
      const { operationId } = await writ.start(updateTier());
      const death = await first.exited;
      assert.equal(death.signal, 'SIGKILL', `the worker died after the record:\n${first.output()}`);
      assert.ok(existsSync(marker));

      const second = await spawnWorker(env);
      t.after(() => second.stop());
      await waitForState(writ, operationId, 'needs_intervention', 90_000);

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
