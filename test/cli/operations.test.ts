import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { runWrit } from '../support/cli.js';
import { freshLedger, temporalAddress } from '../support/db.js';
import { spawnWorker } from '../support/worker-process.js';
import { updateTier } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

async function operatorSetup(t: Parameters<typeof freshLedger>[0]) {
  const ledger = await freshLedger(t);
  await ledger.pool.query(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL)`);
  await ledger.pool.query(`INSERT INTO accounts VALUES (42, 'Acme', 'silver')`);
  const dir = mkdtempSync(join(tmpdir(), 'writ-cli-'));
  const policyFile = join(dir, 'policy.json');
  writeFileSync(
    policyFile,
    JSON.stringify({
      id: 'ops',
      identity: ASSERTED_IDENTITIES,
      rules: [
        {
          name: 'gold-needs-a-manager',
          match: { target: 'public.accounts/*' },
          optIn: { labels: { review: 'yes' } },
          risk: 'high',
          approvals: { required: 1, fromGroups: ['managers'] },
        },
      ],
    }),
  );
  const approversFile = join(dir, 'approvers.json');
  writeFileSync(approversFile, JSON.stringify({ approvers: [{ id: 'bob', groups: ['managers'] }] }));
  const env = {
    DATABASE_URL: ledger.url,
    WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE: 'true',
    TEMPORAL_ADDRESS: temporalAddress(),
    WRIT_TASK_QUEUE: `cli-${randomUUID()}`,
    WRIT_POLICY_FILE: policyFile,
    WRIT_APPROVERS_FILE: approversFile,
  };
  const worker = await spawnWorker(env);
  t.after(() => worker.stop());
  const requestFile = (name: string, request: object) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(request));
    return path;
  };
  return { ledger, env, requestFile };
}

describe('operating governed writes from the command line', () => {
  test('submit --wait runs a write through `writ worker` and exits 0 when it succeeds', async (t) => {
    const { ledger, env, requestFile } = await operatorSetup(t);
    const result = await runWrit(['submit', requestFile('raise.json', updateTier()), '--wait'], { env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /submitted: operation [0-9a-f-]{36} \(correlation [0-9a-f]{32}\)/);
    assert.match(result.stdout, /closed: succeeded/);
    assert.equal((await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier, 'gold');
    assert.equal((await runWrit(['verify'], { env })).code, 0);
  });

  test('status shows what an approver needs; a self-approval exits 1 with the refusal; a manager approves', async (t) => {
    const { env, requestFile } = await operatorSetup(t);
    const submitted = await runWrit(
      ['submit', requestFile('review.json', updateTier({ operationId: 'op-cli-1', labels: { review: 'yes' } }))],
      { env },
    );
    assert.equal(submitted.code, 0, submitted.stderr);
    let status = '';
    for (let i = 0; i < 100 && !status.includes('awaiting_approval'); i++) {
      status = (await runWrit(['status', 'op-cli-1'], { env })).stdout;
      if (!status.includes('awaiting_approval')) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.match(status, /operation op-cli-1: awaiting_approval/);
    assert.match(status, /approvals: 0 of 1 from managers/);
    assert.match(status, /digest [0-9a-f]{64}/);

    const self = await runWrit(['approve', 'op-cli-1', '--as', 'alice', '--reason', 'mine'], { env });
    assert.equal(self.code, 1);
    assert.match(self.stderr, /approval refused for op-cli-1: the requester cannot approve their own operation/);
    const approved = await runWrit(['approve', 'op-cli-1', '--as', 'bob', '--reason', 'renewal signed'], { env });
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /approval accepted for op-cli-1/);
    const waited = await runWrit(
      [
        'submit',
        requestFile('again.json', updateTier({ operationId: 'op-cli-1', labels: { review: 'yes' } })),
        '--wait',
        '--json',
      ],
      { env },
    );
    assert.equal(waited.code, 0, waited.stderr);
    assert.deepEqual(JSON.parse(waited.stdout), {
      operationId: 'op-cli-1',
      outcome: 'succeeded',
      state: 'closed',
      correlationId: JSON.parse(waited.stdout).correlationId,
      duplicate: true,
    });
    const conflicting = await runWrit(
      ['submit', requestFile('other.json', updateTier({ operationId: 'op-cli-1', intent: 'something else' }))],
      { env },
    );
    assert.equal(conflicting.code, 1);
    assert.match(
      conflicting.stderr,
      /operation op-cli-1 already exists and asked for something else \(intent, labels differ\)/,
    );
    const json = JSON.parse((await runWrit(['status', 'op-cli-1', '--json'], { env })).stdout);
    assert.equal(json.approvals.granted[0].approver, 'bob');
    assert.equal(json.approvals.refused[0].approver, 'alice');
  });

  test('a bad request is refused with exit 1 naming the field, and nothing starts', async (t) => {
    const { ledger, env, requestFile } = await operatorSetup(t);
    const bad = await runWrit(
      ['submit', requestFile('bad.json', { actor: { id: 'alice', kind: 'robot' }, intent: '', steps: [] })],
      { env },
    );
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /request refused: actor\.kind: .*; intent: intent must say why this write is made; steps: steps must hold at least one step/,
    );
    assert.equal(
      (await ledger.pool.query("SELECT count(*)::int AS n FROM writ.records WHERE event_type <> 'worker.started'"))
        .rows[0].n,
      0,
    );
    const notJson = await runWrit(['submit', requestFile('broken.json', {}).replace('broken.json', 'missing.json')], {
      env,
    });
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /cannot read .*missing\.json/);
  });

  test('unknown operations and an unreachable Temporal exit 2 with directions', async (t) => {
    const { env } = await operatorSetup(t);
    const unknown = await runWrit(['status', 'no-such-op'], { env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no operation no-such-op/);
    const down = await runWrit(['status', 'x', '--temporal-address', '127.0.0.1:1'], { env });
    assert.equal(down.code, 2);
    assert.match(down.stderr, /no Temporal server answers at 127\.0\.0\.1:1/);
    assert.match(down.stderr, /TEMPORAL_ADDRESS/);
  });

  test('writ schema prints the JSON Schema of a request', async () => {
    const result = await runWrit(['schema']);
    assert.equal(result.code, 0);
    const schema = JSON.parse(result.stdout);
    assert.deepEqual(schema.required.sort(), ['actor', 'intent', 'steps']);
    assert.equal(schema.properties.steps.minItems, 1);
  });
});
