import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { loadedDirectory } from '../../src/governance/directory.js';
import { GovernanceRecorder, policyKey } from '../../src/governance/recorder.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { loadedPolicy } from '../../src/policy/load.js';
import { freshLedger } from '../support/db.js';

const POLICY = loadedPolicy({
  id: 'p',
  rules: [{ name: 'r', match: { target: 'public.accounts/*' }, approvals: { required: 1, fromGroups: ['managers'] } }],
});

async function governanceRows(pool: pg.Pool) {
  return (
    await pool.query(
      `SELECT idempotency_key AS key FROM writ.records WHERE record->>'type' LIKE 'governance.%' ORDER BY seq`,
    )
  ).rows.map((r) => r.key as string);
}

describe('governance records', () => {
  test('two workers that use the same policy revision and directory version at once record each exactly once', async (t) => {
    const ledger = await freshLedger(t);
    const directory = loadedDirectory({ approvers: [{ id: 'bob', groups: ['managers'] }] });
    const workers = [0, 1, 2].map(() => new GovernanceRecorder(ledger.pool, new GroupCommitAppender(ledger.pool)));
    await Promise.all(workers.flatMap((w) => [w.policy(POLICY), w.directory(directory), w.policy(POLICY)]));
    assert.deepEqual((await governanceRows(ledger.pool)).sort(), [
      `governance/directory/${directory.version}`,
      policyKey(POLICY.revision),
    ]);
  });

  test("when a record under the policy's key says something else, the worker refuses to decide under it instead of trusting the key", async (t) => {
    const ledger = await freshLedger(t);
    const appender = new GroupCommitAppender(ledger.pool);
    // Someone who could append got there first with other content under the key.
    await appender.append({
      type: 'governance.policy',
      idempotencyKey: policyKey(POLICY.revision),
      actor: { id: 'mallory', kind: 'user', groups: [] },
      payload: { revision: POLICY.revision, policy: { id: 'p', rules: [] } },
    });
    await assert.rejects(
      new GovernanceRecorder(ledger.pool, appender).policy(POLICY),
      /holds a record under governance\/policy\/sha256:[0-9a-f]{64} \(governance\.policy\) that is not this governance/,
    );
  });
});
