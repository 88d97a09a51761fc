import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { WritClient } from '../../src/client.js';
import { freePorts } from '../../src/net/ports.js';
import { freshLedger, temporalAddress } from '../support/db.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';
import { samples, scrape, value } from '../support/prometheus.js';
import { keygen } from '../support/signing-key.js';
import { spawnWorker } from '../support/worker-process.js';
import { updateTier, waitFor, waitForState } from '../support/writ.js';

/** A ledger with accounts whose owner lower-cases tiers behind every writer's back, a policy and approvers. */
async function setup(t: Parameters<typeof freshLedger>[0]) {
  const ledger = await freshLedger(t);
  await ledger.pool.query(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL)`);
  await ledger.pool.query(`INSERT INTO accounts VALUES (42, 'Acme', 'silver'), (43, 'Globex', 'gold')`);
  await ledger.pool.query(
    `CREATE FUNCTION lower_tier() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.tier := lower(NEW.tier); RETURN NEW; END $$`,
  );
  await ledger.pool.query(
    `CREATE TRIGGER lower_tier BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION lower_tier()`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'writ-metrics-'));
  const policy = {
    id: 'ops',
    identity: ASSERTED_IDENTITIES,
    rules: [
      {
        name: 'reviewed-writes-need-a-manager',
        match: { target: 'public.accounts/*' },
        optIn: { labels: { review: 'yes' } },
        risk: 'high',
        approvals: { required: 1, fromGroups: ['managers'] },
      },
    ],
  };
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
  writeFileSync(join(dir, 'approvers.json'), JSON.stringify({ approvers: [{ id: 'bob', groups: ['managers'] }] }));
  const { env: signing } = await keygen(dir);
  return { ledger, dir, signing };
}

/** A write that succeeds, one the trigger makes fail verification (rolled back), one left waiting for approval. */
async function threeOperations(writ: WritClient): Promise<void> {
  const succeeded = await writ.start(updateTier());
  assert.equal((await writ.result(succeeded.operationId)).outcome, 'succeeded');
  // The trigger stores "platinum" for "PLATINUM": verification fails and the step is rolled back.
  const rolledBack = await writ.start(updateTier({}, 'PLATINUM'));
  assert.equal((await writ.result(rolledBack.operationId)).outcome, 'rolled_back');
  const step = {
    connector: 'postgres',
    action: 'update',
    target: 'public.accounts/43',
    params: { set: { tier: 'platinum' } },
  };
  const waiting = await writ.start(updateTier({ labels: { review: 'yes' }, steps: [step] }));
  await waitForState(writ, waiting.operationId, 'awaiting_approval');
}

describe('writ worker serves metrics for Prometheus', () => {
  test("when a write succeeds, one rolls back and one waits for approval, /metrics says so, and the SDK's exporter serves Temporal's own", async (t) => {
    const { ledger, dir, signing } = await setup(t);
    const [writPort, temporalPort] = (await freePorts(2)) as [number, number];
    const env = {
      DATABASE_URL: ledger.url,
      WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE: 'true',
      TEMPORAL_ADDRESS: temporalAddress(),
      WRIT_TASK_QUEUE: `metrics-${randomUUID()}`,
      WRIT_POLICY_FILE: join(dir, 'policy.json'),
      WRIT_APPROVERS_FILE: join(dir, 'approvers.json'),
      WRIT_METRICS_PORT: String(writPort),
      WRIT_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${temporalPort}`,
      ...signing,
    };
    const worker = await spawnWorker(env);
    t.after(() => worker.stop());
    const url = `http://127.0.0.1:${writPort}/metrics`;
    assert.match(worker.output(), new RegExp(`Writ metrics at ${url}`));

    const connection = await Connection.connect({ address: temporalAddress() });
    t.after(() => connection.close());
    await threeOperations(new WritClient(new Client({ connection }), { taskQueue: env.WRIT_TASK_QUEUE }));
    // Closing operations asks for a checkpoint; wait until there is one.
    await waitFor('a checkpoint', async () =>
      Boolean((await ledger.pool.query('SELECT 1 FROM writ.checkpoints LIMIT 1')).rows[0]),
    );

    const all = await scrape(url);
    const stored = (await ledger.pool.query('SELECT count(*)::int AS n FROM writ.records')).rows[0].n;
    assert.equal(
      value(all, 'writ_ledger_appends_total', { outcome: 'ok' }),
      stored,
      'every record the worker wrote is counted',
    );
    assert.equal(value(all, 'writ_ledger_appends_total', { outcome: 'error' }), 0);
    const duplicates = value(all, 'writ_ledger_appends_total', { outcome: 'duplicate' });
    assert.equal(value(all, 'writ_ledger_append_seconds_count'), stored, 'one latency per record written');
    assert.ok(value(all, 'writ_ledger_append_seconds_sum') > 0);
    assert.equal(value(all, 'writ_ledger_batch_records_sum'), stored + duplicates, 'every record went in a batch');
    assert.ok(value(all, 'writ_ledger_batch_records_count') >= 1);

    assert.equal(value(all, 'writ_metrics_database_up'), 1);
    const byState = Object.fromEntries(samples(all, 'writ_operations').map((s) => [s.labels.state, s.value]));
    assert.deepEqual(byState, { closed: 2, awaiting_approval: 1 });
    assert.equal(value(all, 'writ_approvals_waiting'), 1);
    const age = value(all, 'writ_approval_wait_oldest_seconds');
    assert.ok(age > 0 && age < 300, `the approval has waited ${age} s`);
    assert.equal(value(all, 'writ_compensations_total', { outcome: 'compensated' }), 1);
    assert.equal(value(all, 'writ_compensations_total', { outcome: 'failed' }), 0);
    assert.equal(value(all, 'writ_operations_failed_total'), 1);
    const [chain] = (await ledger.pool.query('SELECT DISTINCT chain_id FROM writ.records')).rows.map((r) => r.chain_id);
    const checkpointAge = value(all, 'writ_checkpoint_age_seconds', { chain });
    assert.ok(checkpointAge >= 0 && checkpointAge < 300, `the checkpoint is ${checkpointAge} s old`);
    assert.ok(samples(all, 'process_cpu_user_seconds_total').length, "the process's own metrics are served too");

    const sdk = await scrape(`http://127.0.0.1:${temporalPort}/metrics`);
    const completed = samples(sdk, 'temporal_workflow_completed').reduce((sum, s) => sum + s.value, 0);
    assert.ok(completed >= 2, `the SDK counted ${completed} completed workflows`);
    assert.ok(samples(sdk, 'temporal_worker_task_slots_available').length, 'the SDK reports its task slots');
  });

  test('when WRIT_METRICS_PORT is not a port, the worker refuses to start and says which variable is wrong', async (t) => {
    const ledger = await freshLedger(t);
    await assert.rejects(
      spawnWorker({
        DATABASE_URL: ledger.url,
        TEMPORAL_ADDRESS: temporalAddress(),
        WRIT_TASK_QUEUE: `metrics-${randomUUID()}`,
        WRIT_METRICS_PORT: '99999',
      }),
      /WRIT_METRICS_PORT must be a port number from 0 to 65535, not "99999"/,
    );
  });
});
