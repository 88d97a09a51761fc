import { performance } from 'node:perf_hooks';
import { percentile } from '../support.js';

export interface Figures {
  p50: number;
  p99: number;
  perSecond: number;
}

/** Runs `total` calls of `run` from `concurrency` callers at once, each starting its next when one ends. */
export async function measure(concurrency: number, total: number, run: (i: number) => Promise<void>): Promise<Figures> {
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
