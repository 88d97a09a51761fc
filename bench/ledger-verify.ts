/**
 * P2: full verification of the stored records read from PostgreSQL vs raw SHA-256 chaining of the
 * same canonical bytes already in memory (one thread), same database, same run.
 */
import { hash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { createPool } from '../src/db/pool.js';
import { GroupCommitAppender } from '../src/ledger/appender.js';
import { verifyThreadsFrom } from '../src/ledger/parallel-verify.js';
import { verifyStoredChain } from '../src/ledger/reader.js';
import type { RecordDraft } from '../src/ledger/record.js';
import { postgresServerCpuMs } from './cpu.js';
import { log, perSecond, ratio, withBenchDatabase } from './support.js';

/** Fills the ledger from `stored` to `records` records, then measures P2. */
export async function benchVerify(
  pool: pg.Pool,
  draft: (i: number) => RecordDraft,
  stored: number,
  records: number,
): Promise<Record<string, number>> {
  const fill = new GroupCommitAppender(pool, { maxBatch: 2000 });
  for (let offset = stored; offset < records; offset += 2000) {
    await fill.appendAll(Array.from({ length: Math.min(2000, records - offset) }, (_, k) => draft(offset + k)));
  }
  // A ledger at rest, as verification meets it: the first read after a bulk insert would otherwise
  // also pay for setting every row's hint bits (and race autovacuum), and only the first pass timed.
  await pool.query('VACUUM (ANALYZE) writ.records');
  const shaPerSecond = await rawChainingPerSecond(pool);

  const threads = verifyThreadsFrom(process.env);
  // The first pass is what `writ verify` meets: threads to start, code not yet optimised. The
  // second, same process, is what a long chain converges to once that is paid.
  const cold = await timedVerification(pool, records, threads);
  const warm = await timedVerification(pool, records, threads);
  log(
    `P2 writ: full verification of ${records} records read from PostgreSQL over ${threads} thread(s): ${cold.perSecond}/s, again ${warm.perSecond}/s`,
  );
  // The single-thread path (hex pages) on the same records, same run: what the threads bought.
  const start = performance.now();
  const sequential = await verifyStoredChain(pool, 'main', { threads: 1, parallelFrom: Number.MAX_SAFE_INTEGER });
  const sequentialPerSecond = perSecond(sequential.records, performance.now() - start);
  log(`P2 writ on one thread (hex pages): ${sequentialPerSecond}/s`);
  return {
    p2_records: records,
    p2_records_per_s: cold.perSecond,
    p2_baseline_records_per_s: shaPerSecond,
    p2_ratio: ratio(cold.perSecond, shaPerSecond),
    p2_threads: threads,
    p2_node_cpu_us_per_record: cold.nodeCpuUs,
    p2_pg_cpu_us_per_record: cold.pgCpuUs,
    p2_warm_records_per_s: warm.perSecond,
    p2_warm_ratio: ratio(warm.perSecond, shaPerSecond),
    p2_warm_node_cpu_us_per_record: warm.nodeCpuUs,
    p2_warm_pg_cpu_us_per_record: warm.pgCpuUs,
    p2_sequential_records_per_s: sequentialPerSecond,
    p2_threads_vs_sequential: ratio(cold.perSecond, sequentialPerSecond),
  };
}

/** One full verification of the chain: records a second, and where the CPU went, a record. */
async function timedVerification(
  pool: pg.Pool,
  records: number,
  threads: number,
): Promise<{ perSecond: number; nodeCpuUs: number; pgCpuUs: number }> {
  const nodeCpuBefore = process.cpuUsage();
  const pgCpuBefore = postgresServerCpuMs();
  const start = performance.now();
  const verdict = await verifyStoredChain(pool, 'main', { threads });
  const ms = performance.now() - start;
  const nodeCpu = process.cpuUsage(nodeCpuBefore);
  const pgCpuMs = postgresServerCpuMs() - pgCpuBefore;
  if (!verdict.ok || verdict.records !== records)
    throw new Error(`benchmark ledger did not verify: ${JSON.stringify(verdict.damage)}`);
  const perRecord = (us: number) => Math.round((us / records) * 10) / 10;
  return {
    perSecond: perSecond(records, ms),
    // This process with all its threads, and the PostgreSQL server.
    nodeCpuUs: perRecord(nodeCpu.user + nodeCpu.system),
    pgCpuUs: perRecord(pgCpuMs * 1000),
  };
}

/**
 * The baseline: the stored canonical bytes chained with SHA-256 in memory, in the fastest raw way
 * Node offers (a one-shot hash of the concatenation; a Hash object per record is about a fifth
 * slower), so the ratio is to the floor, not to a slow baseline. Its own function so the 200,000
 * buffers are garbage before verification starts, not a heap the verifier's collector must trace.
 */
async function rawChainingPerSecond(pool: pg.Pool): Promise<number> {
  const bytes = (await pool.query<{ canonical: Buffer }>('SELECT canonical FROM writ.records ORDER BY seq')).rows.map(
    (row) => row.canonical,
  );
  const start = performance.now();
  let prev: Buffer = Buffer.alloc(32);
  for (const canonical of bytes) prev = hash('sha256', Buffer.concat([prev, canonical]), 'buffer');
  const shaMs = performance.now() - start;
  const shaPerSecond = perSecond(bytes.length, shaMs);
  log(
    `P2 baseline: raw SHA-256 chain over ${bytes.length} canonical records in memory in ${shaMs.toFixed(0)} ms = ${shaPerSecond}/s`,
  );
  return shaPerSecond;
}

/** P2 alone (`node dist/bench/main.js ledger-p2`), for iterating on verification without P1's minutes. */
export async function benchVerifyOnly(
  draft: (i: number) => RecordDraft,
  records = 200_000,
): Promise<Record<string, number>> {
  return withBenchDatabase(async (url) => {
    const pool = createPool(url, { max: 12, applicationName: 'writ-bench' });
    try {
      return await benchVerify(pool, draft, 0, records);
    } finally {
      await pool.end();
    }
  });
}
