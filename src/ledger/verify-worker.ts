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
 * The worker thread's task (a piscina worker module): reads its range over its own connection
 * in binary and checks it. After damage the rest of the range is still read, and ignored, so the
 * COPY ends cleanly rather than being cut off mid-stream.
 */
export default async function verifyRange(task: RangeTask): Promise<RangeResult> {
  const client = new pg.Client(task.connection);
  await client.connect();
  try {
    // A range is read in key order off the primary key. Left to itself, the planner switches to a
    // parallel scan of the whole table and a sort spilled to disk once a range is about a quarter
    // of the chain (WRIT_VERIFY_THREADS=1 always is): twice the database's time a record, and the
    // threads already are the parallelism.
    await client.query(
      'SET enable_seqscan = off; SET enable_bitmapscan = off; SET max_parallel_workers_per_gather = 0',
    );
    const checker = new RangeChecker(task.chainId, { leaves: task.leaves });
    for await (const rows of readRangeBinary(client, task.chainId, task)) {
      for (const row of rows) checker.push(row);
    }
    return checker.result();
  } finally {
    await client.end();
  }
}
