import { Runtime } from '@temporalio/worker';

/**
 * The Temporal SDK's own metrics (workflow and activity task latencies, slots, polls, sticky cache)
 * from its Prometheus exporter at http://`bindAddress`/metrics. The Runtime is process-wide and
 * installed once, before the first connection: so the CLI does it, never library code that a
 * user's own worker embeds (it would take the user's choice of telemetry away).
 */
export function installTemporalMetrics(bindAddress: string): void {
  Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress } } } });
}
