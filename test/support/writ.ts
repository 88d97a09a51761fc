import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { WorkerOptions, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { WritClient } from '../../src/client.js';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import type { Connector } from '../../src/connectors/types.js';
import { describeLifecycleFinding } from '../../src/verify/lifecycle-check.js';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import type { OperationRequestInput } from '../../src/model/request.js';
import type { WritPluginOptions } from '../../src/plugin.js';
import { writBundleOptions, writPlugin } from '../../src/plugin.js';
import type { GovernedWriteSettings } from '../../src/workflows/governed-write/index.js';
import type { TestLedger } from './db.js';
import { freshLedger, temporalAddress } from './db.js';
import { quietTemporalRuntime } from './temporal.js';

let bundle: Promise<WorkflowBundleWithSourceMap | { codePath: string }> | undefined;

/** Bundling takes seconds: the test run's prebuilt bundle, or one per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap | { codePath: string }> {
  if (process.env.WRIT_WORKFLOW_BUNDLE) return Promise.resolve({ codePath: process.env.WRIT_WORKFLOW_BUNDLE });
  return (bundle ??= bundleWorkflowCode({
    ...writBundleOptions(),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  }));
}

export interface WritHarness {
  ledger: TestLedger;
  writ: WritClient;
  client: Client;
  taskQueue: string;
  /** Stops the worker (tests that restart workers do it themselves). */
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
}

export interface HarnessOptions {
  /** A policy object, or a file the worker re-reads when it changes. */
  policy?: string | object;
  /** A directory of people (approvers, requesters), or a file the worker re-reads when it changes. */
  approvers?: string | object;
  settings?: GovernedWriteSettings;
  connectors?: (ledger: TestLedger) => Connector[];
  checkpoints?: WritPluginOptions['checkpoints'];
  /**
   * The test forges records of operations itself (as writ_writer): skip the harness's check that every
   * closed path is legal.
   */
  forgesRecords?: boolean;
  now?: WritPluginOptions['now'];
  personalData?: WritPluginOptions['personalData'];
  /** Scheduled retention on the test's own ledger login (standing in for the custodian's). */
  retentionOnLedger?: boolean;
  alerts?: WritPluginOptions['alerts'];
  /** WRIT_CHAINS: which chains the worker's records go to (chain main when absent). */
  chains?: WritPluginOptions['chains'];
  /** The appender's options (a sealer that holds an append back, say). */
  appender?: WritPluginOptions['appender'];
  /** The worker's cache and pollers, where a test needs them other than the SDK's defaults. */
  worker?: Pick<WorkerOptions, 'maxCachedWorkflows' | 'maxConcurrentWorkflowTaskPolls'>;
}

type TestContextLike = { after: (fn: () => Promise<void>) => void };

/** A ledger, the user's table, a worker running Writ's plugin and a typed client: one per test. */
export async function startWrit(t: TestContextLike, options: HarnessOptions = {}): Promise<WritHarness> {
  quietTemporalRuntime();
  // Node runs t.after hooks first-registered-first; the worker must stop while the ledger it
  // writes to is still open (else its activities retry against a closed pool and it never stops),
  // so this harness keeps its own stack and unwinds it last-in-first-out.
  const cleanups: Array<() => Promise<void>> = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const ledger = await freshLedger({ after: (fn: () => Promise<void>) => cleanups.push(fn) });
  // Once the worker has stopped, every operation the test closed must have closed on a path the
  // lifecycle table allows: each workflow test doubles as a check that the verifier flags nothing legitimate.
  if (!options.forgesRecords) {
    cleanups.push(async () => {
      const verdicts = await verifyStoredLedger(ledger.pool).catch(() => []);
      const illegal = verdicts.flatMap((verdict) => verdict.illegalPaths);
      if (illegal.length)
        throw new Error(
          `writ verify would flag legitimate operations: ${illegal.map(describeLifecycleFinding).join('; ')}`,
        );
    });
  }
  await ledger.pool.query(
    `CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL, balance numeric NOT NULL DEFAULT 0)`,
  );
  await ledger.pool.query(`INSERT INTO accounts VALUES (42, 'Acme', 'silver', 100.50), (43, 'Globex', 'gold', 5)`);
  const taskQueue = `writ-test-${randomUUID()}`;
  const nativeConnection = await NativeConnection.connect({ address: temporalAddress() });
  const connection = await Connection.connect({ address: temporalAddress() });
  const client = new Client({ connection });
  let running: { worker: Worker; done: Promise<void> } | null = null;

  const startWorker = async () => {
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      ...options.worker,
      plugins: [
        writPlugin({
          ledger: { pool: ledger.pool },
          connectors: options.connectors
            ? options.connectors(ledger)
            : [postgresConnector({ pool: ledger.pool, allowLedgerDatabase: true })],
          ...(options.policy ? { policy: options.policy } : {}),
          ...(options.approvers ? { approvers: options.approvers } : {}),
          ...(options.checkpoints ? { checkpoints: options.checkpoints } : {}),
          ...(options.now ? { now: options.now } : {}),
          ...(options.personalData ? { personalData: options.personalData } : {}),
          ...(options.retentionOnLedger ? { retention: { ledger: { pool: ledger.pool } } } : {}),
          ...(options.alerts ? { alerts: options.alerts } : {}),
          ...(options.chains ? { chains: options.chains } : {}),
          ...(options.appender ? { appender: options.appender } : {}),
        }),
      ],
    });
    running = { worker, done: worker.run() };
  };
  const stopWorker = async () => {
    if (!running) return;
    const current = running;
    running = null;
    current.worker.shutdown();
    await current.done;
  };
  cleanups.push(async () => {
    await stopWorker();
    await connection.close();
    await nativeConnection.close();
  });
  await startWorker();
  return {
    ledger,
    writ: new WritClient(client, { taskQueue, settings: options.settings ?? { activityTimeoutMs: 10_000 } }),
    client,
    taskQueue,
    stopWorker,
    startWorker,
  };
}

export function updateTier(overrides: Partial<OperationRequestInput> = {}, tier = 'gold'): OperationRequestInput {
  return {
    actor: { id: 'alice', kind: 'user', groups: ['sales-ops'] },
    intent: 'raise tier after renewal',
    steps: [{ connector: 'postgres', action: 'update', target: 'public.accounts/42', params: { set: { tier } } }],
    ...overrides,
  };
}

export async function ledgerEvents(
  ledger: TestLedger,
  operationId: string,
): Promise<Array<{ type: string; state: string | null; stepIndex: number | null; payload: Record<string, unknown> }>> {
  const result = await ledger.pool.query(`SELECT record FROM writ.records WHERE operation_id = $1 ORDER BY seq`, [
    operationId,
  ]);
  return result.rows.map((row) => ({
    type: row.record.type,
    state: row.record.state,
    stepIndex: row.record.stepIndex,
    payload: row.record.payload,
  }));
}

/**
 * Waits until the operation's ledger holds a record of `type`. The state query answers from the
 * workflow's memory, which takes its new state before the records saying so are appended (their
 * local activity runs after the workflow code moved on): a test that asserts on records waits for
 * the records, not for the state.
 */
export async function waitForRecord(ledger: TestLedger, operationId: string, type: string, timeoutMs = 20_000) {
  await waitFor(
    `a ${type} record of ${operationId}`,
    async () => (await ledgerEvents(ledger, operationId)).some((event) => event.type === type),
    timeoutMs,
  );
}

/** Polls `probe` until it holds: a wait on the condition itself, never a fixed sleep. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls the state query until the operation reaches `state` (queries are cheap and read-only). */
export async function waitForState(
  writ: WritClient,
  operationId: string,
  state: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await writ.state(operationId).catch(() => null);
    if (current?.state === state) return;
    if (Date.now() > deadline)
      throw new Error(
        `operation ${operationId} did not reach ${state} within ${timeoutMs} ms (it is ${current?.state})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
