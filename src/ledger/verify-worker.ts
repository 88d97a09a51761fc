import pg from 'pg';
import { RangeChecker } from '../verify/range-check.js';
import type { RangeResult } from '../verify/range-check.js';
import { readRangeBinary } from './range-reader.js';

/** One seq range of one chain, for a worker thread: where to read it and what to send back. */
export interface RangeTask {
  connection: pg.ClientConfig;
  chainId: string;
  from: number;
  /** Exclusive. */
  to: number;
  deep: boolean;
  leaves: boolean;
}

/**
 * A thread keeps its connection from one range to the next: a chain of a million records is
 * twenty ranges, and a new connection each time paid a backend's start and its cold caches each
 * time. It is closed once the thread has had no range for a while, before the pool retires an
 * idle thread (5 s), so the server sees a clean goodbye rather than a dropped socket.
 */
const IDLE_CLOSE_MS = 1_000;

interface Kept {
  key: string;
  client: pg.Client;
  idle?: NodeJS.Timeout;
}

let kept: Kept | undefined;

async function connectionFor(config: pg.ClientConfig): Promise<pg.Client> {
  const key = JSON.stringify(config);
  if (kept?.key === key) {
    clearTimeout(kept.idle);
    return kept.client;
  }
  await closeKept();
  const client = new pg.Client(config);
  // A kept connection the server ends while it waits (a restart, a dropped database) must not
  // take the thread down with an unhandled error: it is forgotten, and the next range connects anew.
  client.on('error', () => {
    if (kept?.client !== client) return;
    clearTimeout(kept.idle);
    kept = undefined;
  });
  await client.connect();
  // A range is read in key order off the primary key. Left to itself, the planner switches to a
  // parallel scan of the whole table and a sort spilled to disk once a range is about a quarter
  // of the chain (WRIT_VERIFY_THREADS=1 always is): twice the database's time a record, and the
  // threads already are the parallelism.
  await client.query('SET enable_seqscan = off; SET enable_bitmapscan = off; SET max_parallel_workers_per_gather = 0');
  kept = { key, client };
  return client;
}

async function closeKept(): Promise<void> {
  const closing = kept;
  kept = undefined;
  if (!closing) return;
  clearTimeout(closing.idle);
  await closing.client.end().catch(() => undefined);
}

/**
 * The worker thread's task (a piscina worker module): reads its range over the thread's connection
 * in binary and checks it. After damage the rest of the range is still read, and ignored, so the
 * COPY ends cleanly rather than being cut off mid-stream. A range that fails drops the connection:
 * the next one starts on a new one.
 */
export default async function verifyRange(task: RangeTask): Promise<RangeResult> {
  const client = await connectionFor(task.connection);
  let failed = true;
  try {
    const checker = new RangeChecker(task.chainId, { leaves: task.leaves });
    for await (const rows of readRangeBinary(client, task.chainId, task)) {
      for (const row of rows) checker.push(row);
    }
    failed = false;
    return checker.result();
  } finally {
    if (failed) await closeKept();
    else if (kept?.client === client) {
      kept.idle = setTimeout(() => void closeKept(), IDLE_CLOSE_MS);
      kept.idle.unref();
    }
  }
}
