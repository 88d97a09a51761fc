import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { SimplePluginOptions } from '@temporalio/plugin';
import { SimplePlugin } from '@temporalio/plugin';
import type { BundleOptions, ReplayWorkerOptions, WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities/governed/index.js';
import { traceContextActivityInterceptor } from './activities/trace-context.js';
import { currentApprovers, directorySource } from './governance/directory.js';
import { GovernanceRecorder } from './governance/recorder.js';
import type { Connector } from './connectors/types.js';
import { ConnectorRegistry } from './connectors/registry.js';
import { createPool } from './db/pool.js';
import { WritError } from './model/errors.js';
import type { AppenderOptions } from './ledger/appender.js';
import { GroupCommitAppender } from './ledger/appender.js';
import type { ChainRouter } from './ledger/chain-router.js';
import { chainRouter } from './ledger/chain-router.js';
import { OperationChains, RoutedAppender } from './ledger/operation-chains.js';
import { chainsInAttempt } from './activities/chain-in-attempt.js';
import { activityChain } from './activities/operation-chain.js';
import type { LoadedPolicy } from './policy/load.js';
import { BatchedCheckpointer } from './evidence/batched-checkpointer.js';
import type { CheckpointOptions } from './evidence/checkpointer.js';
import { loadedPolicy, policyFromFile } from './policy/load.js';
import { identityContext } from './identity/context.js';
import { loadPersonalData, sealingAppenderOptions } from './privacy/config.js';
import type { PersonalDataRules, RetentionClass } from './privacy/personal-rules.js';
import { createRetentionActivities } from './activities/retention.js';
import { createAlertActivities } from './alerts/activities.js';
import type { AlertConfig } from './alerts/config.js';
import type { WritTracing } from './telemetry/tracing.js';
import { assertBundleTraces } from './telemetry/bundle-tracing.js';
import {
  openTelemetryActivityInterceptor,
  openTelemetryWorkflowInterceptorsPath,
  withSpanSink,
} from './telemetry/worker-parts.js';

export interface WritPluginOptions {
  /** The ledger: a pool you own, or a URL for a pool the plugin owns (closed when the worker stops). */
  ledger: { pool: pg.Pool } | { databaseUrl: string };
  connectors: Connector[];
  /** A policy file path (re-read when it changes) or a policy object; open policy when absent. */
  policy?: string | object;
  /**
   * A directory of people (approvers, requesters) file path (re-read when it changes) or object;
   * nobody can approve, and nobody has groups, when absent.
   */
  approvers?: string | object;
  appender?: AppenderOptions;
  /**
   * Which chains the records go to (WRIT_CHAINS, `chainRouter`): one chain `main` when absent.
   * Each operation's records share the chain its first record went to.
   */
  chains?: ChainRouter;
  /**
   * Signed checkpoints when operations close (batched within `batchMs`) and on the schedule.
   * `ledger`: the checkpointer's own login (writ_checkpointer), when the ledger's is a writer only.
   */
  checkpoints?: CheckpointOptions & { batchMs?: number; ledger?: { pool: pg.Pool } | { databaseUrl: string } };
  /**
   * The steps' clock (when a step executed, whether its rollback window has passed) and the one
   * identity tokens are checked at: the system's when absent; tests move it.
   */
  now?: () => Date;
  /** How identity providers' keys are fetched; the global fetch when absent. */
  identityFetch?: typeof fetch;
  /**
   * Which values are personal (docs/FORMAT.md section 16): a file path or an object. They are
   * sealed before hashing and kept beside the ledger, where `writ erase` and retention reach them.
   */
  personalData?: string | object;
  /**
   * Scheduled retention (the `writ-retention` Schedule runs `writRetention` here): the custodian's
   * login, the one role that deletes values. The classes come from `personalData`.
   */
  retention?: { ledger: { pool: pg.Pool } | { databaseUrl: string } };
  /** Where alerts go (an operation needing intervention, a stale checkpoint); none when absent. */
  alerts?: AlertConfig;
  /** OpenTelemetry spans for workflows and activities (`startTracing`); none exported when absent. */
  tracing?: WritTracing;
}

/** Where Writ's workflows live, for `workflowsPath` (compiled JavaScript, or TypeScript under tsx). */
export function writWorkflowsPath(): string {
  const compiled = fileURLToPath(new URL('./workflows/index.js', import.meta.url));
  return existsSync(compiled) ? compiled : fileURLToPath(new URL('./workflows/index.ts', import.meta.url));
}

/** Writ's workflow interceptor module, which carries the trace into every activity's headers. */
export function writWorkflowInterceptorsPath(): string {
  const compiled = fileURLToPath(new URL('./workflows/interceptors.js', import.meta.url));
  return existsSync(compiled) ? compiled : fileURLToPath(new URL('./workflows/interceptors.ts', import.meta.url));
}

/** Writ's workflow preload module: zod, initialised once per worker thread instead of per workflow. */
export function writWorkflowPreloadPath(): string {
  const compiled = fileURLToPath(new URL('./workflows/preload.js', import.meta.url));
  return existsSync(compiled) ? compiled : fileURLToPath(new URL('./workflows/preload.ts', import.meta.url));
}

/**
 * The workflow interceptor modules, Writ's first: it gives the start the operation's trace, which
 * the SDK's OpenTelemetry interceptors then join. Those are bundled only for a worker that traces:
 * without tracing their spans would go nowhere, and they still cost every workflow their modules'
 * initialisation and a span with its promises per activity call (BENCHMARKS.md, P4).
 */
function workflowInterceptorModules(tracing: boolean): string[] {
  return tracing
    ? [writWorkflowInterceptorsPath(), openTelemetryWorkflowInterceptorsPath()]
    : [writWorkflowInterceptorsPath()];
}

/**
 * What `bundleWorkflowCode` needs to bundle Writ's workflows ahead of time, interceptors included.
 * `tracing: true` bundles the SDK's OpenTelemetry workflow interceptors too, for a worker that
 * exports spans; a worker with tracing refuses a bundle built without them.
 */
export function writBundleOptions({ tracing = false }: { tracing?: boolean } = {}): {
  workflowsPath: string;
  workflowInterceptorModules: string[];
  preloadModules: string[];
} {
  return {
    workflowsPath: writWorkflowsPath(),
    workflowInterceptorModules: workflowInterceptorModules(tracing),
    preloadModules: [writWorkflowPreloadPath()],
  };
}

/** SimplePlugin has no sinks option: the workflow span sink is added here, to workers and replayers. */
class WritPlugin extends SimplePlugin {
  constructor(
    options: SimplePluginOptions,
    private readonly tracing: WritTracing | undefined,
  ) {
    super(options);
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    if (this.tracing && options.workflowBundle)
      assertBundleTraces(
        options.workflowBundle,
        'Build the bundle with bundleWorkflowCode(writBundleOptions({ tracing: true })), or give the worker workflowsPath instead.',
      );
    return super.configureWorker(withSpanSink(options, this.tracing));
  }

  override configureReplayWorker(options: ReplayWorkerOptions): ReplayWorkerOptions {
    return super.configureReplayWorker(withSpanSink(options, this.tracing));
  }

  /** Bundles built for a worker (its `workflowsPath`) or by `bundleWorkflowCode` preload what Writ needs. */
  override configureBundler(options: BundleOptions): BundleOptions {
    const preloadModules = [...new Set([...(options.preloadModules ?? []), writWorkflowPreloadPath()])];
    return super.configureBundler({ ...options, preloadModules });
  }
}

/** A caller's pool, or one the plugin opens (and closes) for a URL; none when not configured. */
function poolOf(
  ledger: { pool: pg.Pool } | { databaseUrl: string } | undefined,
  applicationName: string,
  max = 1,
): pg.Pool | undefined {
  if (!ledger) return undefined;
  return 'pool' in ledger ? ledger.pool : createPool(ledger.databaseUrl, { max, applicationName, service: true });
}

function retentionActivities(pool: pg.Pool | undefined, personal: PersonalDataRules | undefined, home: string) {
  return pool ? createRetentionActivities(pool, retentionClasses(personal), home) : {};
}

function retentionClasses(personal: PersonalDataRules | undefined): RetentionClass[] {
  const classes = personal?.config.retention ?? [];
  if (!classes.length)
    throw new WritError(
      'CONFIG',
      'retention is scheduled but the personal data configuration names no retention classes',
    );
  return classes;
}

/** A policy object, fixed, or a file re-read when it changes (open policy when absent). */
function policySource(source: string | object | undefined): () => Promise<LoadedPolicy> {
  if (typeof source !== 'object') return policyFromFile(source);
  const fixed = loadedPolicy(source);
  return async () => fixed;
}

/**
 * Everything the worker appends through: records placed on their operation's chain (WRIT_CHAINS),
 * and governance recorded on the chain of the decision that rests on it.
 */
function ledgerWriters(pool: pg.Pool, options: WritPluginOptions, personal: PersonalDataRules | undefined) {
  const chains = new OperationChains(pool, options.chains ?? chainRouter(undefined, ''));
  const appender = new RoutedAppender(
    new GroupCommitAppender(pool, sealingAppenderOptions(pool, personal, options.appender)),
    chains,
  );
  const governance = new GovernanceRecorder(pool, appender, activityChain(chains), (id) => chains.forOperation(id));
  return { chains, appender, governance };
}

/** The governed write's activities over the worker's ledger writers, connectors and checkpointer. */
function governedActivitiesOf(
  options: WritPluginOptions,
  { appender, chains, governance }: ReturnType<typeof ledgerWriters>,
  registry: ConnectorRegistry,
  checkpoints: BatchedCheckpointer | undefined,
) {
  const policy = policySource(options.policy);
  const directory = directorySource(options.approvers);
  return createActivities({
    appender,
    chains: chainsInAttempt(chains),
    registry,
    policy,
    approvers: currentApprovers(directory, (loaded) => governance.directory(loaded)),
    directory,
    governance,
    identity: identityContext({
      directory,
      governance,
      ...(options.identityFetch ? { fetch: options.identityFetch } : {}),
      ...(options.now ? { now: options.now } : {}),
    }),
    ...(checkpoints ? { checkpoints } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

/**
 * Adds Writ's activities to a worker in one line: `Worker.create({ plugins: [writPlugin(...)] })`.
 * A TypeScript plugin cannot inject workflows into your bundle: re-export them from your
 * workflows module (`export * from 'writ/workflows'`) or use `writWorkflowsPath()`.
 */
export function writPlugin(options: WritPluginOptions): SimplePlugin {
  const ownsPool = 'databaseUrl' in options.ledger;
  const pool =
    'pool' in options.ledger
      ? options.ledger.pool
      : createPool(options.ledger.databaseUrl, { max: 8, applicationName: 'writ-worker', service: true });
  const registry = new ConnectorRegistry(options.connectors);
  const checkpointLedger = options.checkpoints?.ledger;
  const checkpointPool = poolOf(checkpointLedger, 'writ-checkpointer', 2) ?? pool;
  const checkpoints = options.checkpoints
    ? new BatchedCheckpointer(checkpointPool, options.checkpoints, options.checkpoints.batchMs)
    : undefined;
  const personal = options.personalData === undefined ? undefined : loadPersonalData(options.personalData);
  const writers = ledgerWriters(pool, options, personal);
  const { chains } = writers;
  const retentionPool = poolOf(options.retention?.ledger, 'writ-retention');
  const governedActivities = governedActivitiesOf(options, writers, registry, checkpoints);
  const { tracing } = options;
  const alertActivities = createAlertActivities(pool, options.alerts);
  const plugin: SimplePluginOptions = {
    name: 'writ',
    activities: {
      ...governedActivities,
      ...retentionActivities(retentionPool, personal, chains.home),
      ...alertActivities,
    },
    // With a prebuilt bundle, the workflow modules must have been bundled in (writBundleOptions({ tracing })).
    workerInterceptors: {
      activity: [openTelemetryActivityInterceptor(tracing), traceContextActivityInterceptor],
      workflowModules: workflowInterceptorModules(tracing !== undefined),
    },
    runContext: async (next) => {
      try {
        await next();
      } finally {
        await checkpoints?.close();
        for (const sink of options.checkpoints?.anchors ?? []) await sink.close?.();
        await registry.close();
        if (ownsPool) await pool.end();
        if (checkpointLedger && 'databaseUrl' in checkpointLedger) await checkpointPool.end();
        if (retentionPool && options.retention && 'databaseUrl' in options.retention.ledger) await retentionPool.end();
        await tracing?.processor.forceFlush();
      }
    },
  };
  return new WritPlugin(plugin, tracing);
}
