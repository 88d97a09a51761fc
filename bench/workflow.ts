/**
 * P4: a governed write (one step, no approval) vs a bare workflow that runs the same connector
 * write once, on the same dev server, in the same run: latency p50/p99 and throughput at
 * concurrency 1 and 32.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { WritClient } from '../src/client.js';
import { postgresConnector } from '../src/connectors/postgres/index.js';
import { createPool } from '../src/db/pool.js';
import { startDevServer } from '../src/devserver/dev-server.js';
import { writPlugin, writWorkflowsPath } from '../src/plugin.js';
import { log, percentile, ratio, withBenchDatabase } from './support.js';

interface Figures {
  p50: number;
  p99: number;
  perSecond: number;
}

async function measure(concurrency: number, total: number, run: (i: number) => Promise<void>): Promise<Figures> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t0 = performance.now();
        await run(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - start;
  latencies.sort((a, b) => a - b);
  return {
    p50: Math.round(percentile(latencies, 50) * 10) / 10,
    p99: Math.round(percentile(latencies, 99) * 10) / 10,
    perSecond: Math.round((total / elapsed) * 1000 * 10) / 10,
  };
}

export async function benchWorkflow(): Promise<Record<string, number>> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  return withBenchDatabase(async (url) => {
    const server = await startDevServer();
    const pool = createPool(url, { max: 16, applicationName: 'writ-bench' });
    await pool.query(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL)`);
    await pool.query(`INSERT INTO accounts SELECT g, 'account ' || g, 'silver' FROM generate_series(1, 2000) g`);
    const connector = postgresConnector({ pool, allowLedgerDatabase: true });
    const native = await NativeConnection.connect({ address: server.address });
    const writWorker = await Worker.create({
      connection: native,
      taskQueue: 'bench-writ',
      workflowsPath: writWorkflowsPath(),
      plugins: [writPlugin({ ledger: { pool }, connectors: [connector] })],
    });
    const bareWorker = await Worker.create({
      connection: native,
      taskQueue: 'bench-bare',
      workflowsPath: fileURLToPath(new URL('./bare-workflows.js', import.meta.url)),
      activities: {
        async bareUpdate(target: string, tier: string, key: string) {
          const update = connector.actions.update!;
          const call = { target, params: { set: { tier } } };
          await update.execute(call, { idempotencyKey: key, before: await update.snapshot(call) });
        },
      },
    });
    const running = [writWorker.run(), bareWorker.run()];
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const writ = new WritClient(client, { taskQueue: 'bench-writ' });
    let row = 0;
    const nextTarget = () => `public.accounts/${(row++ % 2000) + 1}`;
    const governed = async (i: number) => {
      const { operationId } = await writ.start({
        actor: { id: 'bench', kind: 'service' },
        intent: 'benchmark',
        steps: [
          {
            connector: 'postgres',
            action: 'update',
            target: nextTarget(),
            params: { set: { tier: i % 2 ? 'gold' : 'silver' } },
          },
        ],
      });
      await writ.result(operationId);
    };
    const bare = async (i: number) => {
      await client.workflow.execute('bareWrite', {
        taskQueue: 'bench-bare',
        workflowId: randomUUID(),
        args: [nextTarget(), i % 2 ? 'gold' : 'silver', randomUUID()],
      });
    };
    try {
      await measure(4, 40, governed);
      await measure(4, 40, bare);
      const figures: Record<string, number> = {};
      for (const [concurrency, total] of [
        [1, 60],
        [32, 640],
      ] as const) {
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
          [`c${concurrency}_throughput_ratio`]: ratio(g.perSecond, b.perSecond),
        });
      }
      return figures;
    } finally {
      writWorker.shutdown();
      bareWorker.shutdown();
      await Promise.all(running);
      await connection.close();
      await native.close();
      await pool.end();
      await server.teardown();
    }
  });
}
