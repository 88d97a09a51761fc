import { NativeConnection, Worker } from '@temporalio/worker';
import type { WritConfig } from './config.js';
import { postgresConnector } from './connectors/postgres/index.js';
import type { Connector } from './connectors/types.js';
import { createPool } from './db/pool.js';
import { writPlugin, writWorkflowsPath } from './plugin.js';

export interface WorkerConfig extends WritConfig {
  policyFile?: string;
  approversFile?: string;
  /** The database the built-in PostgreSQL rows connector writes to (default: the ledger's). */
  connectorDatabaseUrl?: string;
  /** A workflow bundle built ahead of time (`bundleWorkflowCode`), which spares each start the seconds of bundling. */
  workflowBundlePath?: string;
}

export function workerConfigFromEnv(base: WritConfig, env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return {
    ...base,
    ...(env.WRIT_POLICY_FILE ? { policyFile: env.WRIT_POLICY_FILE } : {}),
    ...(env.WRIT_APPROVERS_FILE ? { approversFile: env.WRIT_APPROVERS_FILE } : {}),
    ...(env.WRIT_POSTGRES_CONNECTOR_URL ? { connectorDatabaseUrl: env.WRIT_POSTGRES_CONNECTOR_URL } : {}),
    ...(env.WRIT_WORKFLOW_BUNDLE ? { workflowBundlePath: env.WRIT_WORKFLOW_BUNDLE } : {}),
  };
}

/** The one place that builds pools, connectors and configuration for `writ worker`. */
export async function createWritWorker(config: WorkerConfig): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connectors: Connector[] = [postgresConnector({ pool: createPool(config.connectorDatabaseUrl ?? config.databaseUrl, { max: 4, applicationName: 'writ-connector-postgres' }), closePool: true })];
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
