/**
 * P3: `writ what-happened <id>` latency, the query path the command runs (whatHappened, and
 * timeline for --timeline, each with sealed personal values opened as the command opens them),
 * called in-process for random operation ids and correlation ids, vs a
 * raw primary-key SELECT of one writ.records row. The kinds are interleaved in random order so
 * that whatever else the machine is doing falls on all of them alike, and each query asks about
 * an operation and trace no other query touched, so none finds its pages cached by another.
 */
import type pg from 'pg';
import { timeline, whatHappened } from '../../src/evidence/what-happened/index.js';
import { openSummary, openTimeline } from '../../src/evidence/what-happened/sealed-changes.js';
import { log, ratio } from '../support.js';
import { CHAIN } from './fill.js';
import { Rng } from './random.js';
import type { SampledRecord } from './sample.js';
import { latency, sampleIds, shuffle, timed } from './sample.js';

const SAMPLES = 1000;
const WARMUP = 50;

type Kind = 'baseline' | 'operation' | 'correlation' | 'timeline';

/** `exclude`: the large job's trace id, measured by P5 on its own; a random sample should not stumble on it. */
export async function benchWhatHappened(
  pool: pg.Pool,
  records: number,
  exclude: string[] = [],
): Promise<Record<string, number>> {
  const rng = new Rng(3);
  const kinds: Kind[] = ['baseline', 'operation', 'correlation', 'timeline'];
  const asking = kinds.length - 1;
  const ids = await sampleIds(pool, records, asking * (SAMPLES + WARMUP), rng, exclude);
  const samples = Math.min(SAMPLES, Math.floor(ids.length / asking) - WARMUP);
  if (samples < 100)
    throw new Error(`only ${ids.length} operations in distinct traces were found; use a larger --records`);
  const randomSeq = () => rng.int(1, records);
  const latencies: Record<Kind, number[]> = { baseline: [], operation: [], correlation: [], timeline: [] };
  const correlationAnswers: number[] = [];

  const run = async (kind: Kind, id: SampledRecord | undefined, into: number[] | null) => {
    const sink = into ?? [];
    if (kind === 'baseline') {
      const row = await timed(sink, () =>
        pool.query('SELECT * FROM writ.records WHERE chain_id = $1 AND seq = $2', [CHAIN, randomSeq()]),
      );
      if (row.rowCount !== 1) throw new Error('the baseline read found no record');
    } else if (!id) {
      throw new Error(`${kind} needs an id`);
    } else if (kind === 'operation') {
      const found = await timed(sink, async () => openSummary(pool, await whatHappened(pool, id.operationId)));
      if (found?.matchedBy !== 'operation' || found.operations.length !== 1)
        throw new Error(`what-happened ${id.operationId} did not find its operation`);
    } else if (kind === 'correlation') {
      const found = await timed(sink, async () => openSummary(pool, await whatHappened(pool, id.correlationId)));
      if (found?.matchedBy !== 'correlation' || !found.operations.length)
        throw new Error(`what-happened ${id.correlationId} did not find its trace`);
      if (into) correlationAnswers.push(found.operations.length);
    } else {
      const events = await timed(sink, async () => openTimeline(pool, await timeline(pool, id.operationId)));
      if (!events.length) throw new Error(`what-happened --timeline ${id.operationId} found no records`);
    }
  };

  // Every query but the baseline asks about an operation of its own.
  const round = () => kinds.map((kind) => ({ kind, id: kind === 'baseline' ? undefined : ids.pop()! }));
  for (const { kind, id } of Array.from({ length: WARMUP }, round).flat()) await run(kind, id, null);
  for (const { kind, id } of shuffle(Array.from({ length: samples }, round).flat(), rng))
    await run(kind, id, latencies[kind]);

  const base = latency(latencies.baseline);
  const op = latency(latencies.operation);
  const corr = latency(latencies.correlation);
  const tl = latency(latencies.timeline);
  const shared = correlationAnswers.filter((n) => n > 1).length;
  log(
    `P3 baseline: primary-key SELECT of one writ.records row: p50 ${base.p50} ms, p99 ${base.p99} ms (${latencies.baseline.length} reads)`,
  );
  log(
    `P3 what-happened <operation id>: p50 ${op.p50} ms, p99 ${op.p99} ms, max ${op.max} ms (${latencies.operation.length} ids)`,
  );
  log(
    `P3 what-happened <correlation id>: p50 ${corr.p50} ms, p99 ${corr.p99} ms, max ${corr.max} ms (${latencies.correlation.length} ids, ${shared} of them naming 2-${Math.max(...correlationAnswers)} operations)`,
  );
  log(
    `P3 what-happened --timeline <operation id> (records read from writ.records): p50 ${tl.p50} ms, p99 ${tl.p99} ms`,
  );
  const all = latency([...latencies.operation, ...latencies.correlation]);
  return {
    p3_samples: latencies.operation.length + latencies.correlation.length,
    p3_p50_ms: all.p50,
    p3_p99_ms: all.p99,
    p3_operation_p50_ms: op.p50,
    p3_operation_p99_ms: op.p99,
    p3_correlation_p50_ms: corr.p50,
    p3_correlation_p99_ms: corr.p99,
    p3_correlation_shared: shared,
    p3_timeline_p50_ms: tl.p50,
    p3_timeline_p99_ms: tl.p99,
    p3_baseline_p50_ms: base.p50,
    p3_baseline_p99_ms: base.p99,
    p3_ratio_p50: ratio(all.p50, base.p50),
    p3_ratio_p99: ratio(all.p99, base.p99),
  };
}
