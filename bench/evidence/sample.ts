import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { percentile } from '../support.js';
import { CHAIN } from './fill.js';
import type { Rng } from './random.js';

export interface SampledRecord {
  seq: number;
  operationId: string;
  correlationId: string;
}

/**
 * Ids spread over the whole ledger: the operation and correlation ids of records at uniformly
 * random positions, each operation and each trace once, so that no measured query finds its rows
 * cached by another. Read by primary key, so picking them warms only those records' pages.
 * Returns fewer than `wanted` when the ledger has too few operations. Ids in `exclude` are never picked.
 */
export async function sampleIds(
  pool: pg.Pool,
  records: number,
  wanted: number,
  rng: Rng,
  exclude: Iterable<string> = [],
): Promise<SampledRecord[]> {
  const seen = new Set<string>(exclude);
  const tried = new Set<number>();
  const sampled: SampledRecord[] = [];
  for (let round = 0; round < 4 && sampled.length < wanted && tried.size < records; round++) {
    const seqs: number[] = [];
    while (seqs.length < 2 * (wanted - sampled.length) && tried.size < records) {
      const seq = rng.int(1, records);
      if (tried.has(seq)) continue;
      tried.add(seq);
      seqs.push(seq);
    }
    const result = await pool.query<{ seq: number; operation_id: string | null; correlation_id: string | null }>(
      'SELECT seq, operation_id, correlation_id FROM writ.records WHERE chain_id = $1 AND seq = ANY($2::bigint[])',
      [CHAIN, seqs],
    );
    const bySeq = new Map(result.rows.map((row) => [Number(row.seq), row]));
    // In the random order drawn, not the index's.
    for (const seq of seqs) {
      const row = bySeq.get(seq);
      if (!row?.operation_id || !row.correlation_id || seen.has(row.operation_id) || seen.has(row.correlation_id))
        continue;
      seen.add(row.operation_id).add(row.correlation_id);
      sampled.push({ seq, operationId: row.operation_id, correlationId: row.correlation_id });
      if (sampled.length === wanted) break;
    }
  }
  return sampled;
}

export async function timed<T>(latencies: number[], work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await work();
  latencies.push(performance.now() - t0);
  return result;
}

export interface Latency {
  p50: number;
  p99: number;
  max: number;
}

export function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
}

export function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
