import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createLedgerActivities } from '../../src/activities/ledger.js';
import { WRIT_SEARCH_ATTRIBUTES } from '../../src/model/search-attributes.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import { freshLedger, temporalAddress } from '../support/db.js';
import { smokeWorkflow } from '../fixtures/smoke-workflows.js';
import { quietTemporalRuntime } from '../support/temporal.js';

quietTemporalRuntime();

test('a real workflow on a real worker appends to the ledger through its activity', async (t) => {
  const { pool } = await freshLedger(t);
  const taskQueue = `smoke-${randomUUID()}`;
  const nativeConnection = await NativeConnection.connect({ address: temporalAddress() });
  t.after(() => nativeConnection.close());
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('../fixtures/smoke-workflows.js', import.meta.url)),
    activities: createLedgerActivities(new GroupCommitAppender(pool)),
  });
  const connection = await Connection.connect({ address: temporalAddress() });
  t.after(() => connection.close());
  const client = new Client({ connection });
  const workflowId = `smoke-${randomUUID()}`;

  const recorded = await worker.runUntil(async () => {
    const handle = await client.workflow.start(smokeWorkflow, {
      taskQueue,
      workflowId,
      args: ['hello from the smoke test'],
      typedSearchAttributes: [{ key: WRIT_SEARCH_ATTRIBUTES.mode, value: 'execute' }],
    });
    const result = await handle.result();
    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(WRIT_SEARCH_ATTRIBUTES.mode), 'execute');
    assert.equal(description.typedSearchAttributes.get(WRIT_SEARCH_ATTRIBUTES.state), 'executed');
    return result;
  });

  assert.equal(recorded.seq, 1);
  const stored = await pool.query('SELECT record FROM writ.records WHERE seq = 1');
  assert.equal(stored.rows[0].record.type, 'smoke.checked');
  assert.equal(stored.rows[0].record.workflow.workflowId, workflowId);
  assert.equal(stored.rows[0].record.payload.message, 'hello from the smoke test');
  const [verdict] = await verifyStoredLedger(pool);
  assert.equal(verdict?.ok, true);
});
