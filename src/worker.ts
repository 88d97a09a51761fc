import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { EvidenceConfig } from './evidence/config.js';
import { evidenceConfigFromEnv } from './evidence/config.js';
import { loadSigner } from './evidence/keys.js';
import { preflightAnchors } from './evidence/anchor-preflight.js';
import { ensureCheckpointSchedule, ensureRetentionSchedule } from './evidence/schedule.js';
import type { AlertConfig } from './alerts/config.js';
import { alertConfigFromEnv } from './alerts/config.js';
import { ensureCheckpointWatch } from './alerts/schedule.js';
import type { TracingConfig } from './telemetry/config.js';
import { tracingConfigFromEnv } from './telemetry/config.js';
import { startTracing } from './telemetry/tracing.js';
import type { WritConfig } from './config/writ-config.js';
import type { BuiltinConnectorConfig } from './connectors/builtins/index.js';
import { builtinConfigFromEnv, builtinConnectors } from './connectors/builtins/index.js';
import type { Connector } from './connectors/types.js';
import { createPool } from './db/pool.js';
import type { AppendObserver } from './ledger/appender.js';
import { GroupCommitAppender } from './ledger/appender.js';
import type { ChainRouter } from './ledger/chain-router.js';
import { chainRouter } from './ledger/chain-router.js';
import { directorySource } from './governance/directory.js';
import { policyFromFile } from './policy/load.js';
import { writPlugin, writWorkflowsPath } from './plugin.js';
import { loadPersonalData } from './privacy/config.js';
import { canCheckpoint, recordWorkerStart } from './worker/start-record.js';
import { DEFAULT_MAX_CACHED_WORKFLOWS, maxCachedWorkflowsFromEnv } from './worker/workflow-cache.js';
import { workflowBundleFor } from './worker/workflow-bundle.js';

export interface WorkerConfig extends WritConfig {
  policyFile?: string;
  approversFile?: string;
  /** Which values are personal (WRIT_PERSONAL_DATA): sealed before hashing, erasable. */
  personalDataFile?: string;
  /**
   * Scheduled retention: the custodian's login (WRIT_CUSTODIAN_DATABASE_URL) and how often
   * (WRIT_RETENTION_EVERY, e.g. `1d`); both, or retention runs only by `writ retention apply`.
   */
  retention?: { databaseUrl: string; every: string };
  /** Where the built-in connectors write (PostgreSQL: the ledger's database unless told otherwise). */
  connectors?: BuiltinConnectorConfig;
  /** Signing key, origin and anchors for checkpoints (none without a signing key). */
  evidence?: EvidenceConfig;
  /** How often the checkpoint schedule runs, e.g. `5m` (WRIT_CHECKPOINT_EVERY). */
  checkpointEvery?: string;
  /** Workflows kept in memory between tasks (WRIT_MAX_CACHED_WORKFLOWS; src/worker/workflow-cache.ts). */
  maxCachedWorkflows?: number;
  /** A workflow bundle built ahead of time (`bundleWorkflowCode`), which spares each start the seconds of bundling. */
  workflowBundlePath?: string;
  /** The same with `writBundleOptions({ tracing: true })`, taken when tracing is on (worker/workflow-bundle.ts). */
  tracedWorkflowBundlePath?: string;
  /** OTLP/HTTP span export (WRIT_OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT). */
  tracing?: TracingConfig;
  /** Where alerts go (WRIT_ALERT_WEBHOOK_URL, WRIT_ALERT_SLACK_CHANNEL). */
  alerts?: AlertConfig;
  /** Where start-up warnings go (a superuser login, no signing key); default: stderr. */
  warn?: (line: string) => void;
  /** Told of every ledger append, for metrics (src/metrics: writMetrics().appendObserver). */
  appendObserver?: AppendObserver;
  /** Which chains records go to (WRIT_CHAINS); chain main when absent. */
  chains?: ChainRouter;
}

export function workerConfigFromEnv(base: WritConfig, env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return {
    ...base,
    // Read here, at start: a bad value stops the worker before it writes anything (exit 2).
    chains: chainRouter(env.WRIT_CHAINS, base.namespace),
    ...(env.WRIT_POLICY_FILE ? { policyFile: env.WRIT_POLICY_FILE } : {}),
    ...(env.WRIT_APPROVERS_FILE ? { approversFile: env.WRIT_APPROVERS_FILE } : {}),
    ...(env.WRIT_PERSONAL_DATA ? { personalDataFile: env.WRIT_PERSONAL_DATA } : {}),
    ...(env.WRIT_CUSTODIAN_DATABASE_URL && env.WRIT_RETENTION_EVERY
      ? { retention: { databaseUrl: env.WRIT_CUSTODIAN_DATABASE_URL, every: env.WRIT_RETENTION_EVERY } }
      : {}),
    connectors: builtinConfigFromEnv(base.databaseUrl, env),
    ...(env.WRIT_WORKFLOW_BUNDLE ? { workflowBundlePath: env.WRIT_WORKFLOW_BUNDLE } : {}),
    ...(env.WRIT_WORKFLOW_BUNDLE_TRACED ? { tracedWorkflowBundlePath: env.WRIT_WORKFLOW_BUNDLE_TRACED } : {}),
    maxCachedWorkflows: maxCachedWorkflowsFromEnv(env.WRIT_MAX_CACHED_WORKFLOWS),
    evidence: evidenceConfigFromEnv(env),
    ...(env.WRIT_CHECKPOINT_EVERY ? { checkpointEvery: env.WRIT_CHECKPOINT_EVERY } : {}),
    tracing: tracingConfigFromEnv(env),
    alerts: alertConfigFromEnv(env),
  };
}

/** The one place that builds pools, connectors and configuration for `writ worker`. */
export async function createWritWorker(
  config: WorkerConfig,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  // A policy or directory that does not load would leave every operation retrying: say so at start.
  if (config.policyFile) await policyFromFile(config.policyFile)();
  if (config.approversFile) await directorySource(config.approversFile)();
  if (config.personalDataFile) loadPersonalData(config.personalDataFile);
  const workflowBundle = workflowBundleFor(config, config.tracing !== undefined);
  const connectors: Connector[] = builtinConnectors(config.connectors ?? builtinConfigFromEnv(config.databaseUrl, {}));
  const evidence = config.evidence ?? evidenceConfigFromEnv({});
  const signer = evidence.signingKeyPath ? await loadSigner(evidence.signingKeyPath, evidence.keyName) : null;
  // An anchor that would not keep what it is given (an S3 bucket without Object Lock) stops the start.
  if (signer) await preflightAnchors(evidence.anchors);
  await announceStart(config, signer !== null, evidence.checkpointDatabaseUrl);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  await ensureSchedules(config, signer !== null);
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    maxCachedWorkflows: config.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: writWorkflowsPath() }),
    plugins: [
      writPlugin({
        ledger: { databaseUrl: config.databaseUrl },
        connectors,
        ...(config.chains ? { chains: config.chains } : {}),
        ...(config.appendObserver ? { appender: { observer: config.appendObserver } } : {}),
        ...(config.policyFile ? { policy: config.policyFile } : {}),
        ...(config.approversFile ? { approvers: config.approversFile } : {}),
        ...(config.personalDataFile ? { personalData: config.personalDataFile } : {}),
        ...(config.tracing ? { tracing: startTracing(config.tracing) } : {}),
        ...(config.alerts ? { alerts: config.alerts } : {}),
        ...(config.retention ? { retention: { ledger: { databaseUrl: config.retention.databaseUrl } } } : {}),
        ...(signer
          ? {
              checkpoints: {
                signer,
                origin: evidence.origin,
                anchors: evidence.anchors,
                ...(evidence.tsa ? { tsa: evidence.tsa } : {}),
                ...(evidence.checkpointDatabaseUrl ? { ledger: { databaseUrl: evidence.checkpointDatabaseUrl } } : {}),
              },
            }
          : {}),
      }),
    ],
  });
  return { worker, connection };
}

/** Checkpoints on a schedule when there is a signing key; retention when the custodian's login is given. */
async function ensureSchedules(config: WorkerConfig, signing: boolean): Promise<void> {
  if (!signing && !config.retention) return;
  const client = new Client({
    connection: await Connection.connect({ address: config.temporalAddress }),
    namespace: config.namespace,
  });
  try {
    if (signing) await ensureCheckpointSchedule(client, config.taskQueue, config.checkpointEvery ?? '5m');
    if (signing && config.alerts) await ensureCheckpointWatch(client, config.taskQueue, config.checkpointEvery ?? '5m');
    if (config.retention) await ensureRetentionSchedule(client, config.taskQueue, config.retention.every);
  } finally {
    await client.connection.close();
  }
}

/** worker.started, and a warning on stderr for each privilege the worker should not have. */
async function announceStart(
  config: WorkerConfig,
  signingKey: boolean,
  checkpointUrl: string | undefined,
): Promise<void> {
  const pool = createPool(config.databaseUrl, { max: 1, applicationName: 'writ-worker' });
  try {
    const appender = new GroupCommitAppender(pool, config.appendObserver ? { observer: config.appendObserver } : {});
    let checkpointsWritable = true;
    if (signingKey) {
      const checkpointPool = checkpointUrl
        ? createPool(checkpointUrl, { max: 1, applicationName: 'writ-checkpointer' })
        : pool;
      try {
        checkpointsWritable = await canCheckpoint(checkpointPool);
      } finally {
        if (checkpointPool !== pool) await checkpointPool.end();
      }
    }
    await recordWorkerStart(
      pool,
      appender,
      {
        signingKey,
        checkpointsWritable,
        taskQueue: config.taskQueue,
        namespace: config.namespace,
        ...(config.chains ? { chains: config.chains } : {}),
      },
      config.warn ?? ((line) => console.error(line)),
    );
    await appender.drain();
  } finally {
    await pool.end();
  }
}
