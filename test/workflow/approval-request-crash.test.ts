/**
 * The worker dies right after the approval request is appended, before its workflow task is done.
 * The retried task reads a later workflow clock, so a deadline computed again would differ from
 * the one on the record: the request must be appended from input fixed in history (a regular
 * activity), so the retry finds the same record instead of refusing a conflicting one and failing
 * the operation.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { WritClient } from '../../src/client.js';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import { freshLedger, temporalAddress } from '../support/db.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';
import { spawnWorker } from '../support/worker-process.js';
import { ledgerEvents, updateTier, waitForState } from '../support/writ.js';

test('a worker killed just after recording the approval request leaves one request and an operation that still completes', async (t) => {
  const ledger = await freshLedger(t);
  await ledger.pool.query(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL)`);
  await ledger.pool.query(`INSERT INTO accounts VALUES (42, 'Acme', 'silver')`);
  const dir = mkdtempSync(join(tmpdir(), 'writ-fault-'));
  const policy = {
    id: 'crash-approval',
    identity: ASSERTED_IDENTITIES,
    rules: [{ name: 'review', risk: 'high', approvals: { required: 1, fromGroups: ['managers'] } }],
  };
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
  writeFileSync(join(dir, 'approvers.json'), JSON.stringify({ approvers: [{ id: 'bob', groups: ['managers'] }] }));
  const marker = join(dir, 'fired');
  const env = {
    DATABASE_URL: ledger.url,
    WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE: 'true',
    TEMPORAL_ADDRESS: temporalAddress(),
    WRIT_TASK_QUEUE: `crash-${randomUUID()}`,
    WRIT_POLICY_FILE: join(dir, 'policy.json'),
    WRIT_APPROVERS_FILE: join(dir, 'approvers.json'),
    WRIT_FAULT: 'after-approval-requested',
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
  assert.equal(death.signal, 'SIGKILL', `the worker died after the approval request:\n${first.output()}`);
  assert.ok(existsSync(marker));
  // The restarted worker gets the task again only after a pause, so its clock has moved on.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const second = await spawnWorker(env);
  t.after(() => second.stop());

  await waitForState(writ, operationId, 'awaiting_approval', 60_000);
  assert.equal((await writ.approve(operationId, { approver: 'bob', reason: 'after the crash' })).accepted, true);
  assert.equal((await writ.result(operationId)).outcome, 'succeeded');
  const types = (await ledgerEvents(ledger, operationId)).map((event) => event.type);
  assert.equal(types.filter((type) => type === 'approval.requested').length, 1, types.join(', '));
  const conflicts = await ledger.pool.query(
    `SELECT count(*)::int AS n FROM writ.records WHERE event_type = 'ledger.key_conflict'`,
  );
  assert.equal(conflicts.rows[0].n, 0, 'no conflicting second request was attempted');
  const [verdict] = await verifyStoredLedger(ledger.pool);
  assert.equal(verdict?.ok, true);
});
