import { WritError } from '../model/errors.js';
import { parsePort } from '../serve/config.js';

export const DEFAULT_METRICS_HOST = '127.0.0.1';

export interface MetricsConfig {
  /** Where `writ worker` serves Writ's metrics at /metrics (WRIT_METRICS_PORT, WRIT_METRICS_HOST). */
  writ?: { host: string; port: number };
  /** host:port where the Temporal SDK's own Prometheus exporter listens (WRIT_TEMPORAL_METRICS_ADDRESS). */
  temporalBindAddress?: string;
}

/** Neither endpoint unless asked for: a worker opens no port of its own by default. */
export function metricsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MetricsConfig {
  const port = env.WRIT_METRICS_PORT?.trim();
  const temporal = env.WRIT_TEMPORAL_METRICS_ADDRESS?.trim();
  return {
    ...(port
      ? {
          writ: {
            host: env.WRIT_METRICS_HOST?.trim() || DEFAULT_METRICS_HOST,
            port: parsePort(port, 'WRIT_METRICS_PORT'),
          },
        }
      : {}),
    ...(temporal ? { temporalBindAddress: parseBindAddress(temporal, 'WRIT_TEMPORAL_METRICS_ADDRESS') } : {}),
  };
}

/** host:port or [v6]:port, the form the SDK's exporter binds to; a missing port is the usual slip. */
export function parseBindAddress(value: string, where: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/]+):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !(port >= 1 && port <= 65_535))
    throw new WritError(
      'USAGE',
      `${where} must be host:port (for example 127.0.0.1:9465), not "${value}"`,
      'Give an address and a port from 1 to 65535; use 0.0.0.0 to listen on every interface.',
    );
  return value;
}
