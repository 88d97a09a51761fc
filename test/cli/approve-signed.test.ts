import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runWrit } from '../support/cli.js';
import { freshLedger, temporalAddress } from '../support/db.js';
import { spawnWorker } from '../support/worker-process.js';
import { ledgerEvents, updateTier } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

/** `writ approve --key` signs only what it showed: the plan read from the workflow, and its digest. */
describe('when an approver signs with writ approve --key', () => {
  test('the plan is printed before signing, a digest other than the one shown is refused, and the signed approval is recorded with its key id', async (t) => {
    const ledger = await freshLedger(t);
    await ledger.pool.query(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL)`);
    await ledger.pool.query(`INSERT INTO accounts VALUES (42, 'Acme', 'silver')`);
    const dir = mkdtempSync(join(tmpdir(), 'writ-approve-key-'));
    const bob = generateKeyPairSync('ed25519');
    const keyFile = join(dir, 'bob.key');
    writeFileSync(keyFile, bob.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const policyFile = join(dir, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        id: 'signed',
        identity: ASSERTED_IDENTITIES,
        rules: [
          {
            name: 'tier-needs-a-signed-manager',
            match: { target: 'public.accounts/*' },
            risk: 'high',
            approvals: { required: 1, fromGroups: ['managers'], signed: true },
          },
        ],
      }),
    );
    const approversFile = join(dir, 'approvers.json');
    writeFileSync(
      approversFile,
      JSON.stringify({
        approvers: [
          {
            id: 'bob',
            groups: ['managers'],
            publicKey: bob.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
          },
        ],
      }),
    );
    const env = {
      DATABASE_URL: ledger.url,
      TEMPORAL_ADDRESS: temporalAddress(),
      WRIT_TASK_QUEUE: `cli-${randomUUID()}`,
      WRIT_POLICY_FILE: policyFile,
      WRIT_APPROVERS_FILE: approversFile,
      WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE: 'true',
    };
    const worker = await spawnWorker(env);
    t.after(() => worker.stop());

    const requestFile = join(dir, 'request.json');
    writeFileSync(requestFile, JSON.stringify(updateTier({ operationId: 'op-signed-1' })));
    assert.equal((await runWrit(['submit', requestFile], { env })).code, 0);
    let status = { state: '', approvals: { digest: '' } };
    for (let i = 0; i < 100 && status.state !== 'awaiting_approval'; i++) {
      const shown = await runWrit(['status', 'op-signed-1', '--json'], { env });
      if (shown.code === 0) status = JSON.parse(shown.stdout);
      if (status.state !== 'awaiting_approval') await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const digest = status.approvals.digest;

    const stale = await runWrit(
      [
        'approve',
        'op-signed-1',
        '--as',
        'bob',
        '--reason',
        'reviewed yesterday',
        '--key',
        keyFile,
        '--digest',
        'a'.repeat(64),
      ],
      { env },
    );
    assert.equal(stale.code, 1, stale.stdout + stale.stderr);
    assert.match(
      stale.stderr,
      new RegExp(
        `the digest you reviewed \\(a{64}\\) is not the one the operation waits for now \\(${digest}\\).*nothing was sent`,
      ),
    );

    const signed = await runWrit(
      ['approve', 'op-signed-1', '--as', 'bob', '--reason', 'renewal signed', '--key', keyFile, '--digest', digest],
      { env },
    );
    assert.equal(signed.code, 0, signed.stdout + signed.stderr);
    const plan = signed.stdout;
    assert.match(plan, /you are approving operation op-signed-1 \(awaiting_approval\)/);
    assert.match(plan, /requester +alice \(user; identity not verified\)/);
    assert.match(plan, /intent +raise tier after renewal/);
    assert.match(plan, /risk +high; policy signed/);
    assert.match(plan, /rules +tier-needs-a-signed-manager/);
    assert.match(plan, /step 1 +postgres\.update public\.accounts\/42/);
    assert.match(plan, /before +\{.*"tier":"silver"/);
    assert.match(plan, /after +\{.*"tier":"gold"/);
    assert.match(plan, /deadline +\d{4}-\d\d-\d\dT/);
    assert.match(plan, new RegExp(`digest +${digest}`));
    assert.match(plan, /approval accepted for op-signed-1/);

    const granted = (await ledgerEvents(ledger, 'op-signed-1')).find((e) => e.type === 'approval.granted');
    assert.equal(granted?.payload.signed, true);
    assert.equal(granted?.payload.digest, digest);
    assert.match(String(granted?.payload.signature), /^[A-Za-z0-9+/]{86}==$/);
    assert.match(String(granted?.payload.keyId), /^[0-9a-f]{64}$/);
    // The approved write runs to its end before the test's database goes away.
    let closed;
    for (let i = 0; i < 150 && !closed; i++) {
      closed = (await ledgerEvents(ledger, 'op-signed-1')).find((e) => e.type === 'operation.closed');
      if (!closed) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(closed?.payload.outcome, 'succeeded');
  });
});
