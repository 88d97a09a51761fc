import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { Piscina } from 'piscina';
import { WritError } from '../model/errors.js';
import { ChainStitcher } from '../verify/chain-stitch.js';
import type { ChainVerdict } from '../verify/chain.js';
import type { RangeResult } from '../verify/range-check.js';
import type { RangeTask } from './verify-worker.js';

const MAX_DEFAULT_THREADS = 4;

/** WRIT_VERIFY_THREADS, or as many threads as cores up to four. */
export function verifyThreadsFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.WRIT_VERIFY_THREADS;
  if (raw === undefined || raw === '') return Math.min(availableParallelism(), MAX_DEFAULT_THREADS);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 64)
    throw new WritError(
      'CONFIG',
      `WRIT_VERIFY_THREADS=${raw} is not a whole number of threads from 1 to 64`,
      'Unset it for the default (the number of cores, at most 4), or give e.g. 2.',
    );
  return value;
}

/**
 * The compiled worker module. Worker threads load plain JavaScript, so under tsx (`npm run writ`,
 * this file being src/ledger/*.ts) it is the build's copy in dist; null when there is none, and the
 * caller verifies on its own thread.
 */
export function verifyWorkerFile(): string | null {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith('.ts')
    ? resolve(dirname(here), '../../dist/src/ledger/verify-worker.js')
    : resolve(dirname(here), 'verify-worker.js');
  return existsSync(file) ? file : null;
}

// One pool per thread count for the process: its idle threads are unref'd, so it keeps no process alive.
const pools = new Map<number, Piscina<RangeTask, RangeResult>>();

function workerPool(threads: number, filename: string): Piscina<RangeTask, RangeResult> {
  let pool = pools.get(threads);
  if (!pool) {
    // No Atomics: a thread parked on Atomics.wait between tasks runs no timers and hears no socket,
    // and a thread keeps its connection between ranges (verify-worker.ts), which must close when
    // idle and notice when the server ends it. A range is far too long for the wake-up to matter.
    pool = new Piscina({ filename, minThreads: 0, maxThreads: threads, idleTimeout: 5_000, atomics: 'disabled' });
    pools.set(threads, pool);
  }
  return pool;
}

/** What a worker needs to open its own connection like the pool's: the pool's settings that can be cloned. */
function connectionOf(pool: pg.Pool): pg.ClientConfig {
  const options = (pool as unknown as { options: Record<string, unknown> }).options;
  const config: Record<string, unknown> = {};
  for (const key of [
    'connectionString',
    'host',
    'port',
    'user',
    'password',
    'database',
    'ssl',
    'options',
    'connectionTimeoutMillis',
    'statement_timeout',
    'query_timeout',
  ]) {
    const value = options[key];
    if (value !== undefined && typeof value !== 'function') config[key] = value;
  }
  return { ...config, application_name: 'writ-verify' };
}

export interface ParallelOptions {
  threads: number;
  /** Records per worker task. */
  rangeSize: number;
  deep: boolean;
  rootsAt: ReadonlySet<number>;
  onProgress?: (records: number) => void;
}

/**
 * Verifies seq 1..head of a chain over worker threads: ranges go out a few more at a time than
 * there are threads (so a thread never waits for the main thread), and come back in order into
 * one ChainStitcher, which stops at the first damage.
 */
export async function verifyChainParallel(
  pool: pg.Pool,
  chainId: string,
  head: number,
  options: ParallelOptions & { workerFile: string },
): Promise<ChainVerdict & { roots: Map<number, Buffer> }> {
  const workers = workerPool(options.threads, options.workerFile);
  const connection = connectionOf(pool);
  const stitcher = new ChainStitcher(chainId, options.rootsAt);
  const inFlight: Promise<RangeResult>[] = [];
  let from = 1;
  const submit = () => {
    const task: RangeTask = {
      connection,
      chainId,
      from,
      to: Math.min(from + options.rangeSize, head + 1),
      deep: options.deep,
      leaves: options.rootsAt.size > 0,
    };
    from = task.to;
    const result = workers.run(task);
    // Results are awaited in order; one that is never awaited (after damage) must not go unhandled.
    result.catch(() => undefined);
    inFlight.push(result);
  };
  while (from <= head && inFlight.length < options.threads * 2) submit();
  while (inFlight.length) {
    const result = await inFlight.shift()!;
    if (from <= head) submit();
    if (stitcher.accept(result)) break;
    options.onProgress?.(stitcher.records);
  }
  return stitcher.verdict();
}
