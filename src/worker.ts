import { NativeConnection, Worker } from '@temporalio/worker';
import type { WritConfig } from './config.js';
import type { BuiltinConnectorConfig } from './connectors/builtins.js';
import { builtinConfigFromEnv, builtinConnectors } from './connectors/builtins.js';
import type { Connector } from './connectors/types.js';
import { writPlugin, writWorkflowsPath } from './plugin.js';

export interface WorkerConfig extends WritConfig {
  policyFile?: string;
  approversFile?: string;
  /** Where the built-in connectors write (PostgreSQL: the ledger's database unless told otherwise). */
  connectors?: BuiltinConnectorConfig;
  /** A workflow bundle built ahead of time (`bundleWorkflowCode`), which spares each start the seconds of bundling. */
  workflowBundlePath?: string;
}

export function workerConfigFromEnv(base: WritConfig, env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return {
    ...base,
    ...(env.WRIT_POLICY_FILE ? { policyFile: env.WRIT_POLICY_FILE } : {}),
    ...(env.WRIT_APPROVERS_FILE ? { approversFile: env.WRIT_APPROVERS_FILE } : {}),
    connectors: builtinConfigFromEnv(base.databaseUrl, env),
    ...(env.WRIT_WORKFLOW_BUNDLE ? { workflowBundlePath: env.WRIT_WORKFLOW_BUNDLE } : {}),
  };
}

/** The one place that builds pools, connectors and configuration for `writ worker`. */
export async function createWritWorker(config: WorkerConfig): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connectors: Connector[] = builtinConnectors(config.connectors ?? builtinConfigFromEnv(config.databaseUrl, {}));
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    ...(config.workflowBundlePath ? { workflowBundle: { codePath: config.workflowBundlePath } } : { workflowsPath: writWorkflowsPath() }),
    plugins: [writPlugin({
      ledger: { databaseUrl: config.databaseUrl },
      connectors,
      ...(config.policyFile ? { policy: config.policyFile } : {}),
      ...(config.approversFile ? { approvers: config.approversFile } : {}),
    })],
  });
  return { worker, connection };
}
