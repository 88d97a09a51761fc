import type { Registry } from 'prom-client';
import { Counter, Histogram } from 'prom-client';
import type { AppendObserver } from '../ledger/append-types.js';

// From a lone record on an idle ledger (about a millisecond) to a batch queued behind a slow commit.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// Powers of two up to the appender's default maxBatch (512).
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** The appender's counters and histograms in `registry`, fed by the observer returned. */
export function ledgerMetrics(registry: Registry): AppendObserver {
  const appends = new Counter({
    name: 'writ_ledger_appends_total',
    help: 'Records handed to the ledger appender, by how they ended: ok (written), duplicate (already recorded under the idempotency key), error (not written).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  // Present from the first scrape, so that rate() over them starts at zero rather than absent.
  for (const outcome of ['ok', 'duplicate', 'error']) appends.inc({ outcome }, 0);
  const latency = new Histogram({
    name: 'writ_ledger_append_seconds',
    help: 'Per record written: seconds from when it was handed to the appender to when its batch committed.',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const batches = new Histogram({
    name: 'writ_ledger_batch_records',
    help: 'Records per group-commit batch (one transaction each), committed or failed.',
    buckets: BATCH_BUCKETS,
    registers: [registry],
  });
  const failedBatches = new Counter({
    name: 'writ_ledger_batches_failed_total',
    help: 'Group-commit batches that failed as a whole (none of their records written).',
    registers: [registry],
  });
  return {
    batch(records, ok) {
      batches.observe(records);
      if (!ok) failedBatches.inc();
    },
    settled(outcome, count, seconds) {
      appends.inc({ outcome }, count);
      if (outcome === 'ok') for (let i = 0; i < count; i++) latency.observe(seconds);
    },
  };
}
