/**
 * A ledger's worth of traffic: operations arriving over time, running concurrently, their
 * records interleaved in the order they happen, as many workers appending to one chain would
 * leave them. Some arrive in batches that share one trace (a job that submits several writes
 * under one traceparent), so a correlation id can name several operations.
 */
import type { RecordDraft } from '../../src/ledger/record.js';
import { Rng } from './random.js';
import type { StoryEvent } from './stories.js';
import { operationStory } from './stories.js';

/** Fixed, so that every build of a fixture holds the same stories at the same times. */
const EPOCH = Date.UTC(2026, 0, 5, 6, 0, 0);
const MEAN_ARRIVAL_GAP_MS = 1500;
/** Share of arrivals that are a job submitting several operations under one trace id. */
const JOB_SHARE = 0.1;
/**
 * One nightly-style job an hour in that submits LARGE_JOB operations under a single trace id, so
 * that P5 can export the bundle of a correlation id spanning that many operations. An hour in
 * (about 25,000 records) puts all of it inside even a 100,000-record fixture.
 */
export const LARGE_JOB = 1000;
const LARGE_JOB_AT = EPOCH + 3_600_000;
const LARGE_JOB_GAP_MS = 500;

interface Trace {
  size: number;
  seen: boolean;
}

interface Running {
  at: number;
  events: StoryEvent[];
  next: number;
  trace: Trace;
}

/** A binary min-heap on `at`: hundreds of operations are in flight, each waiting for its next event. */
class Timeline {
  private readonly heap: Running[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): Running | undefined {
    return this.heap[0];
  }

  push(item: Running): void {
    const h = this.heap;
    h.push(item);
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= h[i]!.at) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  pop(): Running | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < h.length && h[l]!.at < h[min]!.at) min = l;
        if (r < h.length && h[r]!.at < h[min]!.at) min = r;
        if (min === i) break;
        [h[min], h[i]] = [h[i]!, h[min]!];
        i = min;
      }
    }
    return top;
  }
}

export interface TrafficStats {
  operations: number;
  sharedTraces: number;
  operationsInSharedTraces: number;
  /** The large job's trace id once it has arrived, and how many of its operations have written a record. */
  largeTrace?: { id: string; operations: number };
}

/**
 * Exactly `records` drafts, in the order their events occur. Operations still running when the
 * count is reached are left open, as a live ledger always has some.
 */
export function* traffic(
  records: number,
  seed: number,
  stats: TrafficStats = { operations: 0, sharedTraces: 0, operationsInSharedTraces: 0 },
): Generator<RecordDraft> {
  const rng = new Rng(seed);
  const running = new Timeline();
  let nextArrival = EPOCH;
  let largeTrace: Trace | null = null;
  const start = (at: number, traceId: string, trace: Trace) => {
    const events = operationStory(rng, { operationId: rng.uuid(), traceId, requestedAt: new Date(at) });
    running.push({ at: at + events[0]!.delayMs, events, next: 0, trace });
  };
  for (let emitted = 0; emitted < records;) {
    if (!running.size || nextArrival <= running.peek()!.at) {
      const traceId = rng.hex(16);
      const large: boolean = !largeTrace && nextArrival >= LARGE_JOB_AT;
      const trace: Trace = { size: large ? LARGE_JOB : rng.chance(JOB_SHARE) ? rng.int(2, 8) : 1, seen: false };
      if (large) {
        largeTrace = trace;
        stats.largeTrace = { id: traceId, operations: 0 };
      }
      const gap = () => (large ? LARGE_JOB_GAP_MS : rng.int(5, 400));
      for (let i = 0; i < trace.size; i++) start(nextArrival + i * gap(), traceId, trace);
      nextArrival += rng.exponential(MEAN_ARRIVAL_GAP_MS);
      continue;
    }
    const op = running.pop()!;
    const event = op.events[op.next]!;
    // Counted when their first record is written: operations that arrive after the last record do not exist yet.
    if (op.next === 0) {
      stats.operations++;
      if (op.trace.size > 1) {
        stats.operationsInSharedTraces++;
        if (!op.trace.seen) stats.sharedTraces++;
      }
      op.trace.seen = true;
      if (op.trace === largeTrace) stats.largeTrace!.operations++;
    }
    yield { ...event.draft, occurredAt: new Date(Math.round(op.at)).toISOString() };
    emitted++;
    op.next++;
    if (op.next < op.events.length) running.push({ ...op, at: op.at + op.events[op.next]!.delayMs });
  }
}
