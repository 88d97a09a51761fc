import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { WritClient } from '../../src/client.js';
import type { FaultPoint } from '../../src/activities/governed/faults.js';
import { temporalAddress } from './db.js';
import type { TestLedger } from './db.js';
import { spawnWorker } from './worker-process.js';
import { updateTier } from './writ.js';

/**
 * A `writ worker` process that kills itself (SIGKILL) the first time it reaches `point`, once per
 * test: `start` runs an operation on it and returns when the worker has died there, and `restart`
 * brings up the worker that carries on.
 */
export async function workerKilledAt(
  t: TestContext,
  ledger: TestLedger,
  point: FaultPoint,
  extraEnv: NodeJS.ProcessEnv = {},
) {
  const marker = join(mkdtempSync(join(tmpdir(), 'writ-fault-')), 'fired');
  const env = {
    DATABASE_URL: ledger.url,
    WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE: 'true',
    TEMPORAL_ADDRESS: temporalAddress(),
    WRIT_TASK_QUEUE: `crash-${randomUUID()}`,
    WRIT_FAULT: point,
    WRIT_FAULT_ONCE_FILE: marker,
    ...extraEnv,
  };
  const connection = await Connection.connect({ address: temporalAddress() });
  t.after(() => connection.close());
  const writ = new WritClient(new Client({ connection }), {
    taskQueue: env.WRIT_TASK_QUEUE,
    settings: { activityTimeoutMs: 2000 },
  });
  return {
    writ,
    /** Starts an operation and returns its id once the worker has died at `point`. */
    async start(): Promise<string> {
      const first = await spawnWorker(env);
      const { operationId } = await writ.start(updateTier());
      const death = await first.exited;
      assert.equal(death.signal, 'SIGKILL', `the worker died at ${point}:\n${first.output()}`);
      assert.ok(existsSync(marker));
      return operationId;
    },
    async restart(): Promise<void> {
      const second = await spawnWorker(env);
      t.after(() => second.stop());
    },
  };
}
