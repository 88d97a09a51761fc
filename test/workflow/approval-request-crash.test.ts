/**
 * The worker dies right after the approval request is appended, before its workflow task is done.
 * The retried task reads a later workflow clock, so a deadline computed again would differ from
 * the one on the record: the request must be appended from input fixed in history (a regular
 * activity), so the retry finds the same record instead of refusing a conflicting one and failing
 * the operation.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import { freshLedger } from '../support/db.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';
import { workerKilledAt } from '../support/fault-worker.js';
import { ledgerEvents, waitForState } from '../support/writ.js';

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
  const { writ, start, restart } = await workerKilledAt(t, ledger, 'after-approval-requested', {
    WRIT_POLICY_FILE: join(dir, 'policy.json'),
    WRIT_APPROVERS_FILE: join(dir, 'approvers.json'),
  });
  const operationId = await start();
  // The restarted worker gets the task again only after a pause, so its clock has moved on.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await restart();

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
