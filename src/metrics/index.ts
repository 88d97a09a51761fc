import type pg from 'pg';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { AppendObserver } from '../ledger/append-types.js';
import { databaseMetrics } from './database-metrics.js';
import { ledgerMetrics } from './ledger-metrics.js';

export { serveMetrics } from './server.js';
export type { MetricsServer } from './server.js';

export interface WritMetricsOptions {
  /**
   * The ledger's database, read at each scrape for the operation, approval and checkpoint
   * metrics; give it a statement timeout (createPool's timeoutMs) so a slow database cannot hang
   * a scrape. Without it, only the appender's metrics.
   */
  pool?: pg.Pool;
  /** Node's process metrics too (CPU, memory, event loop lag): right for a process of Writ's own. */
  processMetrics?: boolean;
}

export interface WritMetrics {
  registry: Registry;
  /** For the appender (`writPlugin({ appender: { observer } })`). */
  appendObserver: AppendObserver;
}

/** Writ's metrics in a registry of their own, so that an embedding process's registry is untouched. */
export function writMetrics(options: WritMetricsOptions = {}): WritMetrics {
  const registry = new Registry();
  const appendObserver = ledgerMetrics(registry);
  if (options.pool) databaseMetrics(registry, options.pool);
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  return { registry, appendObserver };
}
