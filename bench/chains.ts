/**
 * Chains that scale (issue 15 item 3): the same appends through group commit, spread evenly over
 * 1, 2 and 4 chains (an operation's records on one chain, as WRIT_CHAINS=hash:<n> places them),
 * with the same 64 callers and the same pool, on one PostgreSQL. Each chain count gets a fresh
 * database, so no run appends behind another's rows; the baseline is raw batched INSERTs of the
 * same canonical bytes into a plain table (no trigger, no chain), measured in the same run.
 */
import { performance } from 'node:perf_hooks';
import { createPool } from '../src/db/pool.js';
import { GroupCommitAppender } from '../src/ledger/appender.js';
import { prepareRecord } from '../src/ledger/record.js';
import { draft } from './ledger.js';
import { log, perSecond, ratio, withBenchDatabase } from './support.js';

const CALLERS = 64;
const CHAIN_COUNTS = [1, 2, 4] as const;

/** Record i's chain when appends are spread over n chains: by its operation, as the router does. */
function chainOf(i: number, n: number): string {
  return `c-${Math.floor(i / 8) % n}`;
}

async function rawBaseline(records: number): Promise<number> {
  return withBenchDatabase(async (url) => {
    const pool = createPool(url, { max: 12, applicationName: 'writ-bench' });
    try {
      await pool.query(
        'CREATE TABLE bench_plain (id bigserial PRIMARY KEY, canonical bytea NOT NULL, record jsonb NOT NULL)',
      );
      const prepared = Array.from(
        { length: records },
        (_, i) => prepareRecord({ ...draft(i), idempotencyKey: `raw/${i}` }).canonical,
      );
      const start = performance.now();
      for (let offset = 0; offset < prepared.length; offset += 512)
        await pool.query(
          `INSERT INTO bench_plain (canonical, record) SELECT c, convert_from(c, 'UTF8')::jsonb FROM unnest($1::bytea[]) AS c`,
          [prepared.slice(offset, offset + 512)],
        );
      const perS = perSecond(records, performance.now() - start);
      log(`chains baseline: raw batched INSERT, ${records} rows = ${perS}/s`);
      return perS;
    } finally {
      await pool.end();
    }
  });
}

async function appendsOver(n: number, records: number): Promise<number> {
  return withBenchDatabase(async (url) => {
    const pool = createPool(url, { max: 12, applicationName: 'writ-bench' });
    try {
      let batches = 0;
      const appender = new GroupCommitAppender(pool, { onBatch: () => batches++ });
      let next = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: CALLERS }, async () => {
          for (let i = next++; i < records; i = next++) await appender.append({ ...draft(i), chain: chainOf(i, n) });
        }),
      );
      const perS = perSecond(records, performance.now() - start);
      log(
        `chains ${n}: ${CALLERS} callers, ${records} records = ${perS}/s (${(records / batches).toFixed(1)} records/batch)`,
      );
      return perS;
    } finally {
      await pool.end();
    }
  });
}

export async function benchChains(options: { records?: number } = {}): Promise<Record<string, number>> {
  const records = options.records ?? 40_000;
  const baseline = await rawBaseline(records);
  const figures: Record<string, number> = { chains_records: records, chains_baseline_per_s: baseline };
  for (const n of CHAIN_COUNTS) {
    const perS = await appendsOver(n, records);
    figures[`chains_${n}_per_s`] = perS;
    figures[`chains_${n}_ratio`] = ratio(perS, baseline);
  }
  figures.chains_4_vs_1 = ratio(figures.chains_4_per_s!, figures.chains_1_per_s!);
  return figures;
}
