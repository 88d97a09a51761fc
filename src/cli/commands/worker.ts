import { getHeapStatistics } from 'node:v8';
import type { Command } from 'commander';
import { configFromEnv } from '../../config/writ-config.js';
import { metricsConfigFromEnv } from '../../metrics/config.js';
import { startWorkerMetrics } from '../../metrics/worker-metrics.js';
import { createWritWorker, workerConfigFromEnv } from '../../worker.js';
import { memoryWarnings } from '../../worker/memory-env.js';
import type { GlobalOptions } from '../shared/context.js';
import type { TemporalOptions } from '../shared/temporal.js';
import { temporalConfig } from '../shared/temporal.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description("run a Temporal worker with Writ's workflows, activities and built-in connectors until interrupted")
    .option('--policy <file>', 'policy file (default: $WRIT_POLICY_FILE; open policy when unset)')
    .option('--approvers <file>', 'approver directory (default: $WRIT_APPROVERS_FILE)')
    .action(async (options: { policy?: string; approvers?: string }, command: Command) => {
      for (const warning of memoryWarnings(process.env, getHeapStatistics().heap_size_limit / 2 ** 20))
        console.error(warning);
      const globals = command.optsWithGlobals<GlobalOptions & TemporalOptions>();
      const temporal = temporalConfig(globals);
      const config = workerConfigFromEnv({
        ...configFromEnv(),
        ...(globals.databaseUrl ? { databaseUrl: globals.databaseUrl } : {}),
        temporalAddress: temporal.address,
        namespace: temporal.namespace,
        taskQueue: temporal.taskQueue,
      });
      // Before createWritWorker: the SDK's exporter needs the Runtime installed ahead of any connection.
      const metrics = await startWorkerMetrics(metricsConfigFromEnv(), config.databaseUrl);
      const { worker, connection } = await createWritWorker({
        ...config,
        ...(options.policy ? { policyFile: options.policy } : {}),
        ...(options.approvers ? { approversFile: options.approvers } : {}),
        ...(metrics.appendObserver ? { appendObserver: metrics.appendObserver } : {}),
      }).catch(async (error: unknown) => {
        await metrics.close();
        throw error;
      });
      const stop = () => worker.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      for (const endpoint of metrics.endpoints) console.log(endpoint);
      console.log(
        `writ worker on task queue ${config.taskQueue} at ${config.temporalAddress} (namespace ${config.namespace})`,
      );
      try {
        await worker.run();
      } finally {
        await connection.close();
        await metrics.close();
      }
    });
}
