/**
 * P6: the resident set of `writ worker`, in a process of its own as production runs it (prebuilt
 * workflow bundle, built-in connectors, a policy file), while 100 operations wait for approval and
 * rounds of 100 more run through it at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { WritClient } from '../../src/client.js';
import { writBundleOptions } from '../../src/plugin.js';
import { log } from '../support.js';
import { residentMb, RssSampler } from './rss.js';
import { spawnWritWorker } from './worker-child.js';
import { WORKER_MEMORY_ENV } from '../../src/worker/memory-env.js';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../../src/worker/workflow-cache.js';

/**
 * BENCH_WORKER_NODE_OPTIONS / BENCH_WORKER_MALLOC_ARENA_MAX replace the production settings, to
 * measure without them (an empty value drops one); WRIT_MAX_CACHED_WORKFLOWS passes through.
 */
function memoryOverrides(): Record<string, string> {
  const overrides: Record<string, string> = {};
  const nodeOptions = process.env.BENCH_WORKER_NODE_OPTIONS;
  const arenas = process.env.BENCH_WORKER_MALLOC_ARENA_MAX;
  if (nodeOptions !== undefined) overrides.NODE_OPTIONS = nodeOptions;
  if (arenas !== undefined) overrides.MALLOC_ARENA_MAX = arenas;
  return overrides;
}

const HELD = 100;
const EXECUTING = 100;
const ROUNDS = 3;
const TASK_QUEUE = 'bench-p6';

/** Writes to `public.held` wait for one approval (which never comes); the accounts are open. */
const POLICY = {
  id: 'bench-p6',
  identity: { requests: 'asserted', decisions: 'asserted' },
  rules: [{ name: 'held rows need approval', match: { target: 'public.held/*' }, approvals: { required: 1 } }],
};

function request(target: string, tier: string) {
  return {
    actor: { id: 'bench', kind: 'service' as const },
    intent: 'benchmark',
    steps: [{ connector: 'postgres', action: 'update', target, params: { set: { tier } } }],
  };
}

/** The policy file and the workflow bundle, built ahead of time as the Dockerfile does. */
async function workerFiles(dir: string): Promise<{ policy: string; bundle: string }> {
  const policy = join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify(POLICY));
  const { code } = await bundleWorkflowCode({ ...writBundleOptions(), logger: new DefaultLogger('WARN') });
  const bundle = join(dir, 'workflow-bundle.js');
  writeFileSync(bundle, code);
  return { policy, bundle };
}

/** Starts the held operations and returns once every one of them is awaiting approval. */
async function holdOperations(writ: WritClient): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= HELD; i++) ids.push((await writ.start(request(`public.held/${i}`, 'gold'))).operationId);
  for (const id of ids) {
    for (;;) {
      // A loaded worker may answer a query too late: ask again rather than fail the run.
      const state = await writ.state(id).then(
        (view) => view.state,
        () => null,
      );
      if (state === 'awaiting_approval') break;
      if (state === 'closed') throw new Error(`held operation ${id} closed instead of waiting for approval`);
      await sleep(100);
    }
  }
  return ids;
}

/** Rounds of operations started all at once; returns how many ran per second. */
async function executeRounds(writ: WritClient): Promise<number> {
  const start = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(
      Array.from({ length: EXECUTING }, async (_, i) => {
        const target = `public.accounts/${round * EXECUTING + i + 1}`;
        const { operationId } = await writ.start(request(target, round % 2 ? 'silver' : 'gold'));
        const result = await writ.result(operationId);
        if (result.outcome !== 'succeeded') throw new Error(`operation ${operationId} ended ${result.outcome}`);
      }),
    );
  }
  return Math.round(((ROUNDS * EXECUTING) / (performance.now() - start)) * 1000 * 10) / 10;
}

/** P6 against the dev server at `address` and the ledger at `databaseUrl` (accounts and held tables in it). */
export async function benchMemory(address: string, databaseUrl: string): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'writ-bench-p6-'));
  const { policy, bundle } = await workerFiles(dir);
  const worker = await spawnWritWorker({
    ...WORKER_MEMORY_ENV,
    ...memoryOverrides(),
    DATABASE_URL: databaseUrl,
    WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE: 'true',
    TEMPORAL_ADDRESS: address,
    WRIT_TASK_QUEUE: TASK_QUEUE,
    WRIT_POLICY_FILE: policy,
    WRIT_WORKFLOW_BUNDLE: bundle,
  });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const writ = new WritClient(client, { taskQueue: TASK_QUEUE });
  let held: string[] = [];
  try {
    await sleep(1000);
    const idle = residentMb(worker.pid) ?? 0;
    const sampler = new RssSampler(worker.pid);
    held = await holdOperations(writ);
    const whileHeld = sampler.sample();
    const perSecond = await executeRounds(writ);
    const peak = sampler.stop();
    const highWater = residentMb(worker.pid, 'VmHWM') ?? 0;
    log(
      `P6 writ worker RSS: idle ${idle.toFixed(1)} MB, ${HELD} held ${whileHeld.toFixed(1)} MB, ` +
        `peak with ${EXECUTING} executing ${peak} MB (high-water mark ${highWater.toFixed(1)} MB); ${perSecond}/s`,
    );
    return {
      worker_rss_mb: peak,
      worker_rss_idle_mb: Math.round(idle * 10) / 10,
      worker_rss_held_mb: Math.round(whileHeld * 10) / 10,
      worker_rss_hwm_mb: Math.round(highWater * 10) / 10,
      p6_held: HELD,
      p6_executing: EXECUTING,
      p6_rounds: ROUNDS,
      p6_per_s: perSecond,
      p6_max_cached_workflows: Number(process.env.WRIT_MAX_CACHED_WORKFLOWS || DEFAULT_MAX_CACHED_WORKFLOWS),
    };
  } finally {
    await Promise.all(
      held.map((id) =>
        client.workflow
          .getHandle(id)
          .terminate('benchmark over')
          .catch(() => undefined),
      ),
    );
    await connection.close();
    await worker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
