import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { WritClient } from '../../src/client.js';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { startDevServer } from '../../src/devserver/dev-server.js';
import { writPlugin } from '../../src/plugin.js';
import { freshLedger } from '../support/db.js';
import { quietTemporalRuntime } from '../support/temporal.js';
import { ledgerEvents, updateTier, waitForState, workflowBundle } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

test('operations waiting for approval survive a restart of the (file-backed) Temporal server and then complete', async (t) => {
  quietTemporalRuntime();
  const ledger = await freshLedger(t);
  await ledger.pool.query(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL)`);
  await ledger.pool.query(`INSERT INTO accounts SELECT g, 'account ' || g, 'silver' FROM generate_series(1, 3) g`);
  const dbFilename = join(mkdtempSync(join(tmpdir(), 'writ-restart-')), 'temporal.db');
  const port = await freePort();
  const taskQueue = 'restart-test';
  const policy = {
    id: 'restart',
    identity: ASSERTED_IDENTITIES,
    rules: [{ name: 'review', risk: 'high', approvals: { required: 1, fromGroups: ['managers'] } }],
  };
  const approvers = { approvers: [{ id: 'bob', groups: ['managers'] }] };

  const boot = async () => {
    const server = await startDevServer({ dbFilename, port });
    const native = await NativeConnection.connect({ address: server.address });
    const worker = await Worker.create({
      connection: native,
      taskQueue,
      workflowBundle: await workflowBundle(),
      plugins: [
        writPlugin({
          ledger: { pool: ledger.pool },
          connectors: [postgresConnector({ pool: ledger.pool, allowLedgerDatabase: true })],
          policy,
          approvers,
        }),
      ],
    });
    const running = worker.run();
    const connection = await Connection.connect({ address: server.address });
    const writ = new WritClient(new Client({ connection }), { taskQueue, settings: { activityTimeoutMs: 5000 } });
    const shutdown = async () => {
      worker.shutdown();
      await running;
      await connection.close();
      await native.close();
      await server.teardown();
    };
    return { writ, shutdown };
  };

  const first = await boot();
  const ids = ['restart-1', 'restart-2', 'restart-3'];
  for (const [i, operationId] of ids.entries()) {
    await first.writ.start(
      updateTier({
        operationId,
        steps: [
          {
            connector: 'postgres',
            action: 'update',
            target: `public.accounts/${i + 1}`,
            params: { set: { tier: 'gold' } },
          },
        ],
      }),
    );
  }
  for (const operationId of ids) await waitForState(first.writ, operationId, 'awaiting_approval');
  await first.shutdown();

  const second = await boot();
  t.after(() => second.shutdown());
  for (const operationId of ids) {
    assert.equal(
      (await second.writ.state(operationId)).state,
      'awaiting_approval',
      `${operationId} is still waiting after the restart`,
    );
    assert.equal(
      (await second.writ.approve(operationId, { approver: 'bob', reason: 'after the restart' })).accepted,
      true,
    );
  }
  for (const operationId of ids) {
    assert.equal((await second.writ.result(operationId)).outcome, 'succeeded');
    assert.equal((await ledgerEvents(ledger, operationId)).filter((e) => e.type === 'approval.granted').length, 1);
  }
  const tiers = await ledger.pool.query('SELECT array_agg(tier ORDER BY id) AS tiers FROM accounts');
  assert.deepEqual(tiers.rows[0].tiers, ['gold', 'gold', 'gold']);
});
