/**
 * `npm run bench -- workflow`: P4 (governed write vs bare workflow, latency and throughput at
 * concurrency 1, 32 and 100) and P6 (the resident set of `writ worker` with operations waiting for
 * approval and others executing), on one dev server and one database.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createPool } from '../../src/db/pool.js';
import { startDevServer } from '../../src/devserver/dev-server.js';
import { withBenchDatabase } from '../support.js';
import { childPids } from '../cpu.js';
import { benchLatency } from './p4-latency.js';
import { benchMemory } from './p6-memory.js';

export function benchWorkflow(): Promise<Record<string, number>> {
  return onBenchStack(async (address, pool, url) => {
    const latency = await benchLatency(address, pool, childPids());
    const memory = await benchMemory(address, url);
    return { ...latency, ...memory };
  });
}

/** `npm run bench -- workflow-p4`: P4 alone, for comparing two builds of the governed write quickly. */
export function benchWorkflowLatency(): Promise<Record<string, number>> {
  return onBenchStack((address, pool) => benchLatency(address, pool, childPids()));
}

/** `npm run bench -- workflow-p6`: P6 alone, for trying the worker's memory settings quickly. */
export function benchWorkerMemory(): Promise<Record<string, number>> {
  return onBenchStack((address, _pool, url) => benchMemory(address, url));
}

async function onBenchStack(
  run: (address: string, pool: ReturnType<typeof createPool>, url: string) => Promise<Record<string, number>>,
): Promise<Record<string, number>> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  return withBenchDatabase(async (url) => {
    const server = await startDevServer();
    const pool = createPool(url, { max: 16, applicationName: 'writ-bench' });
    try {
      for (const table of ['accounts', 'held']) {
        await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL)`);
        await pool.query(`INSERT INTO ${table} SELECT g, 'account ' || g, 'silver' FROM generate_series(1, 2000) g`);
      }
      return await run(server.address, pool, url);
    } finally {
      await pool.end();
      await server.teardown();
    }
  });
}
