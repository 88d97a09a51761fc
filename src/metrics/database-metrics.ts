import type pg from 'pg';
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import type { DatabaseSample } from './database-sample.js';
import { readDatabaseSample } from './database-sample.js';

type Sampler = () => Promise<DatabaseSample | null>;

/**
 * The gauges and ledger-wide counters read from the database when Prometheus scrapes. Every
 * metric's collect() is called at once per scrape; they share one sample, read by one set of
 * queries. When the database does not answer (or answers too slowly for the pool's timeout),
 * writ_metrics_database_up is 0, the gauges say nothing (no sample, or NaN) and the counters keep
 * their last value: a drop to zero would read as a counter reset and fake an increase later.
 */
export function databaseMetrics(registry: Registry, pool: pg.Pool): void {
  let inFlight: Promise<DatabaseSample | null> | null = null;
  const sample: Sampler = () =>
    (inFlight ??= readDatabaseSample(pool)
      .catch(() => null)
      .finally(() => (inFlight = null)));
  new Gauge({
    name: 'writ_metrics_database_up',
    help: "1 when this scrape read the ledger's database, 0 when it could not (the database-derived metrics are then missing or NaN).",
    registers: [registry],
    async collect() {
      this.set((await sample()) ? 1 : 0);
    },
  });
  operationGauges(registry, sample);
  failureCounters(registry, sample);
  new Gauge({
    name: 'writ_checkpoint_age_seconds',
    help: "Seconds since each chain's newest signed checkpoint (chains never checkpointed are absent).",
    labelNames: ['chain'],
    registers: [registry],
    async collect() {
      const now = await sample();
      this.reset();
      for (const { chain, ageSeconds } of now?.checkpoints ?? []) this.set({ chain }, ageSeconds);
    },
  });
}

function operationGauges(registry: Registry, sample: Sampler): void {
  new Gauge({
    name: 'writ_operations',
    help: 'Operations in the ledger by their current state (closed ones under state="closed").',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const now = await sample();
      this.reset();
      for (const { state, count } of now?.operations ?? []) this.set({ state }, count);
    },
  });
  new Gauge({
    name: 'writ_approvals_waiting',
    help: 'Operations waiting for approval now.',
    registers: [registry],
    async collect() {
      this.set((await sample())?.approvalsWaiting ?? NaN);
    },
  });
  new Gauge({
    name: 'writ_approval_wait_oldest_seconds',
    help: 'Seconds since the longest-waiting operation asked for approval (0 when none waits).',
    registers: [registry],
    async collect() {
      this.set((await sample())?.oldestApprovalSeconds ?? NaN);
    },
  });
}

/** Counters of the whole ledger, not of this process: every worker reports the same, so take max(), not sum(). */
function failureCounters(registry: Registry, sample: Sampler): void {
  new Counter({
    name: 'writ_compensations_total',
    help: 'Steps rolled back in the whole ledger, by outcome: compensated, or failed (the rollback itself failed).',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      const now = await sample();
      if (!now) return;
      this.reset();
      this.inc({ outcome: 'compensated' }, now.compensated);
      this.inc({ outcome: 'failed' }, now.compensationFailed);
    },
  });
  new Counter({
    name: 'writ_operations_failed_total',
    help: 'Operations in the whole ledger in which a step failed to execute or to verify (rolled back or not).',
    registers: [registry],
    async collect() {
      const now = await sample();
      if (!now) return;
      this.reset();
      this.inc(now.failedOperations);
    },
  });
}
