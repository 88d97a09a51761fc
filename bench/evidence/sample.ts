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
 * random positions. Read by primary key, so picking them warms only those records' pages and
 * nothing of what is measured afterwards.
 */
export async function sampleIds(pool: pg.Pool, records: number, count: number, rng: Rng): Promise<SampledRecord[]> {
  const seqs = new Set<number>();
  while (seqs.size < Math.min(count, records)) seqs.add(rng.int(1, records));
  const result = await pool.query<{ seq: number; operation_id: string; correlation_id: string }>(
    'SELECT seq, operation_id, correlation_id FROM writ.records WHERE chain_id = $1 AND seq = ANY($2::bigint[])', [CHAIN, [...seqs]]);
  const bySeq = new Map(result.rows.map((row) => [Number(row.seq), row]));
  // In the random order drawn, not the index's.
  return [...seqs].map((seq) => bySeq.get(seq)!).filter((row) => row.operation_id && row.correlation_id)
    .map((row) => ({ seq: Number(row.seq), operationId: row.operation_id, correlationId: row.correlation_id }));
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
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1] ?? 0) };
}

export function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
