import { createPool } from '../db/pool.js';
import type { AppendObserver } from '../ledger/append-types.js';
import type { MetricsConfig } from './config.js';
import { writMetrics } from './index.js';
import { serveMetrics } from './server.js';
import { installTemporalMetrics } from './temporal-runtime.js';

/** How long a scrape waits on the database before it reports writ_metrics_database_up 0. */
const SCRAPE_TIMEOUT_MS = 2000;

export interface WorkerMetrics {
  /** Present when Writ's metrics are served: the worker's appenders report to it. */
  appendObserver?: AppendObserver;
  /** Where each endpoint listens, for the start-up message. */
  endpoints: string[];
  close(): Promise<void>;
}

/**
 * What `writ worker` serves: the SDK's exporter (before any Temporal connection is made, which
 * is why this runs first) and Writ's registry at /metrics, on its own small pool.
 */
export async function startWorkerMetrics(config: MetricsConfig, databaseUrl: string): Promise<WorkerMetrics> {
  const endpoints: string[] = [];
  if (config.temporalBindAddress) {
    installTemporalMetrics(config.temporalBindAddress);
    endpoints.push(`Temporal SDK metrics at http://${config.temporalBindAddress}/metrics`);
  }
  if (!config.writ) return { endpoints, close: async () => {} };
  const pool = createPool(databaseUrl, { max: 1, applicationName: 'writ-metrics', timeoutMs: SCRAPE_TIMEOUT_MS });
  const metrics = writMetrics({ pool, processMetrics: true });
  try {
    const server = await serveMetrics(metrics.registry, config.writ.host, config.writ.port);
    endpoints.push(`Writ metrics at ${server.url}`);
    return {
      appendObserver: metrics.appendObserver,
      endpoints,
      async close() {
        await server.close();
        await pool.end();
      },
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}
