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
import { CpuMeter } from '../cpu.js';
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

type Operation = (i: number) => Promise<void>;

/** One side at one concurrency: its figures, and the CPU each process group spent per operation. */
async function side(meter: CpuMeter, concurrency: number, total: number, run: Operation) {
  await meter.start();
  const figures = await measure(concurrency, total, run);
  const cpu = await meter.stop();
  const perOp = (ms: number) => Math.round((ms / total) * 10) / 10;
  return { ...figures, cpu: { node: perOp(cpu.node), server: perOp(cpu.server), pg: perOp(cpu.pg) } };
}

type Side = Awaited<ReturnType<typeof side>>;

function sideFigures(prefix: string, f: Side): Record<string, number> {
  return {
    [`${prefix}_p50_ms`]: f.p50,
    [`${prefix}_p99_ms`]: f.p99,
    [`${prefix}_per_s`]: f.perSecond,
    [`${prefix}_cpu_ms_node`]: f.cpu.node,
    [`${prefix}_cpu_ms_server`]: f.cpu.server,
    [`${prefix}_cpu_ms_pg`]: f.cpu.pg,
  };
}

async function level(meter: CpuMeter, concurrency: number, total: number, ops: ReturnType<typeof operations>) {
  const b = await side(meter, concurrency, total, ops.bare);
  const g = await side(meter, concurrency, total, ops.governed);
  const cpu = (f: Side) => `CPU/op node ${f.cpu.node} server ${f.cpu.server} pg ${f.cpu.pg} ms`;
  log(
    `P4 c=${concurrency}: bare p50 ${b.p50} ms p99 ${b.p99} ms ${b.perSecond}/s (${cpu(b)}) | ` +
      `governed p50 ${g.p50} ms p99 ${g.p99} ms ${g.perSecond}/s (${cpu(g)})`,
  );
  return {
    ...sideFigures(`c${concurrency}_bare`, b),
    ...sideFigures(`c${concurrency}_writ`, g),
    [`c${concurrency}_latency_ratio_p50`]: ratio(g.p50, b.p50),
    [`c${concurrency}_latency_ratio_p99`]: ratio(g.p99, b.p99),
    [`c${concurrency}_throughput_ratio`]: ratio(g.perSecond, b.perSecond),
  };
}

/**
 * P4 against the dev server at `address` (processes `serverPids`), with the accounts table in the
 * database of `pool`.
 */
export async function benchLatency(
  address: string,
  pool: pg.Pool,
  serverPids: number[],
): Promise<Record<string, number>> {
  const native = await NativeConnection.connect({ address });
  const workers = await startWorkers(native, pool);
  const running = workers.map((worker) => worker.run());
  const connection = await Connection.connect({ address });
  const ops = operations(new Client({ connection }));
  const meter = new CpuMeter(pool, serverPids);
  try {
    await measure(4, 40, ops.governed);
    await measure(4, 40, ops.bare);
    const figures: Record<string, number> = {};
    for (const [concurrency, total] of LEVELS) Object.assign(figures, await level(meter, concurrency, total, ops));
    return figures;
  } finally {
    workers.forEach((worker) => worker.shutdown());
    await Promise.all(running);
    await connection.close();
    await native.close();
  }
}
