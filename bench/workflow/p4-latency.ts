/**
 * P4: a governed write (one step, no approval) vs a bare workflow that runs the same connector
 * write once, on the same dev server, in the same run: latency p50/p99 and throughput at
 * concurrency 1, 32 and 100.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { WritClient } from '../../src/client.js';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { writPlugin, writWorkflowsPath } from '../../src/plugin.js';
import { log, ratio } from '../support.js';
import { measure } from './measure.js';

/** Concurrency, and how many operations each side runs at it. */
const LEVELS = [
  [1, 60],
  [32, 640],
  [100, 1000],
] as const;

async function startWorkers(native: NativeConnection, pool: pg.Pool): Promise<Worker[]> {
  const connector = postgresConnector({ pool, allowLedgerDatabase: true });
  const writWorker = await Worker.create({
    connection: native,
    taskQueue: 'bench-writ',
    workflowsPath: writWorkflowsPath(),
    plugins: [writPlugin({ ledger: { pool }, connectors: [connector] })],
  });
  const bareWorker = await Worker.create({
    connection: native,
    taskQueue: 'bench-bare',
    workflowsPath: fileURLToPath(new URL('../bare-workflows.js', import.meta.url)),
    activities: {
      async bareUpdate(target: string, tier: string, key: string) {
        const update = connector.actions.update!;
        const call = { target, params: { set: { tier } } };
        await update.execute(call, { idempotencyKey: key, before: await update.snapshot(call) });
      },
    },
  });
  return [writWorker, bareWorker];
}

/** One governed write and one bare workflow, each updating the next of the 2,000 accounts. */
function operations(client: Client): { governed: (i: number) => Promise<void>; bare: (i: number) => Promise<void> } {
  const writ = new WritClient(client, { taskQueue: 'bench-writ' });
  let row = 0;
  const nextTarget = () => `public.accounts/${(row++ % 2000) + 1}`;
  const tier = (i: number) => (i % 2 ? 'gold' : 'silver');
  return {
    async governed(i) {
      const { operationId } = await writ.start({
        actor: { id: 'bench', kind: 'service' },
        intent: 'benchmark',
        steps: [{ connector: 'postgres', action: 'update', target: nextTarget(), params: { set: { tier: tier(i) } } }],
      });
      await writ.result(operationId);
    },
    async bare(i) {
      await client.workflow.execute('bareWrite', {
        taskQueue: 'bench-bare',
        workflowId: randomUUID(),
        args: [nextTarget(), tier(i), randomUUID()],
      });
    },
  };
}

/** P4 against the dev server at `address`, with the accounts table in the database of `pool`. */
export async function benchLatency(address: string, pool: pg.Pool): Promise<Record<string, number>> {
  const native = await NativeConnection.connect({ address });
  const workers = await startWorkers(native, pool);
  const running = workers.map((worker) => worker.run());
  const connection = await Connection.connect({ address });
  const { governed, bare } = operations(new Client({ connection }));
  try {
    await measure(4, 40, governed);
    await measure(4, 40, bare);
    const figures: Record<string, number> = {};
    for (const [concurrency, total] of LEVELS) {
      const b = await measure(concurrency, total, bare);
      const g = await measure(concurrency, total, governed);
      log(
        `P4 c=${concurrency}: bare p50 ${b.p50} ms p99 ${b.p99} ms ${b.perSecond}/s | governed p50 ${g.p50} ms p99 ${g.p99} ms ${g.perSecond}/s`,
      );
      Object.assign(figures, {
        [`c${concurrency}_bare_p50_ms`]: b.p50,
        [`c${concurrency}_bare_p99_ms`]: b.p99,
        [`c${concurrency}_bare_per_s`]: b.perSecond,
        [`c${concurrency}_writ_p50_ms`]: g.p50,
        [`c${concurrency}_writ_p99_ms`]: g.p99,
        [`c${concurrency}_writ_per_s`]: g.perSecond,
        [`c${concurrency}_latency_ratio_p50`]: ratio(g.p50, b.p50),
        [`c${concurrency}_latency_ratio_p99`]: ratio(g.p99, b.p99),
        [`c${concurrency}_throughput_ratio`]: ratio(g.perSecond, b.perSecond),
      });
    }
    return figures;
  } finally {
    workers.forEach((worker) => worker.shutdown());
    await Promise.all(running);
    await connection.close();
    await native.close();
  }
}
