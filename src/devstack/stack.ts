import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type pg from 'pg';
import { WritClient } from '../client.js';
import { createPool } from '../db/pool.js';
import { startDevServer } from '../devserver/dev-server.js';
import { migrate } from '../ledger/migrate.js';
import type { RunningServe } from '../serve/server.js';
import { startServe } from '../serve/server.js';
import type { WorkerConfig } from '../worker.js';
import { createWritWorker } from '../worker.js';
import type { Cleanup } from './cleanup.js';
import type { DevIdentity } from './dev-identity.js';
import { startDevIdentity } from './dev-identity.js';
import { freePort } from '../net/ports.js';
import type { SsoOptions } from '../serve/sso.js';
import { peopleFromFile } from '../identity/people-file.js';

export const NAMESPACE = 'default';

export interface StackOptions {
  /** The ledger's database, as its owner; migrated here. */
  ledgerUrl: string;
  /**
   * The worker's, its checkpointer's and serve's own logins (src/devstack/logins.ts), so that neither
   * runs as the superuser; absent: all of them as `ledgerUrl`, and the worker warns that it does.
   */
  logins?: { worker: string; checkpoint: string; serve: string };
  taskQueue: string;
  temporal: { port: number; uiPort: number; dbFilename?: string };
  /** Everything the worker needs but its addresses: connectors, policy, approvers, evidence. */
  worker: Omit<WorkerConfig, 'databaseUrl' | 'temporalAddress' | 'namespace' | 'taskQueue'>;
  serve: { host: string; port: number; linkSecret: string };
  /**
   * A development identity provider with the directory's people, a channel key for writ serve's
   * approval pages, and a directory that trusts both (src/devstack/dev-identity.ts); absent: none.
   */
  identity?: { dir: string; providerPort?: number };
  log: (line: string) => void;
  /** Checked between the parts: an aborted start stops at the next one (clean-up undoes the rest). */
  signal: AbortSignal;
}

export interface Stack {
  temporalAddress: string;
  webUi: string;
  writ: WritClient;
  client: Client;
  /** On the ledger's database. */
  pool: pg.Pool;
  serve: RunningServe;
  /** The ledger migrations this start applied (none when the database was up to date). */
  migrations: string[];
  /** Rejects if the worker stops on its own (it should run until clean-up stops it). */
  workerFailure: Promise<never>;
  /** The development identity provider and what it set up, when asked for. */
  identity?: DevIdentity;
}

let runtimeInstalled = false;

/**
 * The Temporal SDK's runtime shuts workers down by itself on SIGINT and SIGTERM; here the
 * clean-up decides the order (serve, worker, server, database), so it is told not to.
 */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  runtimeInstalled = true;
}

/**
 * The whole of Writ on one machine: ledger migrated, a Temporal dev server with its Web UI, a
 * worker with the built-in connectors, `writ serve`, and a client. Each part registers its own
 * undo with `cleanup` the moment it exists.
 */
export async function startStack(options: StackOptions, cleanup: Cleanup): Promise<Stack> {
  installQuietRuntime();
  const { log } = options;
  const migrations = await migrate(options.ledgerUrl);
  options.signal.throwIfAborted();

  const server = await startDevServer({
    ui: true,
    port: options.temporal.port,
    uiPort: options.temporal.uiPort,
    ...(options.temporal.dbFilename ? { dbFilename: options.temporal.dbFilename } : {}),
    log,
  });
  cleanup.add('the Temporal dev server', () => server.teardown());
  const temporalAddress = server.address;
  options.signal.throwIfAborted();

  // The provider must know where logins return to before writ serve listens: the port is fixed first.
  const serveOn = { ...options.serve, port: options.serve.port || (await freePort()) };
  const identity = options.identity
    ? await startDevIdentity(
        {
          ...(options.worker.approversFile ? { directoryFile: options.worker.approversFile } : {}),
          dir: options.identity.dir,
          serveBaseUrl: `http://${serveOn.host}:${serveOn.port}`,
          ...(options.identity.providerPort ? { port: options.identity.providerPort } : {}),
        },
        cleanup,
      )
    : undefined;
  const worker = identity ? { ...options.worker, approversFile: identity.directoryFile } : options.worker;
  const { workerFailure } = await startWorker({ ...options, worker }, temporalAddress, cleanup);
  options.signal.throwIfAborted();

  const connection = await Connection.connect({ address: temporalAddress });
  cleanup.add('the client connection', () => connection.close());
  const client = new Client({ connection, namespace: NAMESPACE });
  const writ = new WritClient(client, { taskQueue: options.taskQueue });
  const sso = identity ? devSso(identity, writ) : undefined;
  const { pool, serve } = await startServeOn({ ...options, serve: serveOn }, cleanup, sso);
  return {
    temporalAddress,
    webUi: `http://127.0.0.1:${options.temporal.uiPort}`,
    writ,
    client,
    pool,
    serve,
    migrations,
    workerFailure,
    ...(identity ? { identity } : {}),
  };
}

/** writ serve's approval pages, signing in at the development provider. */
function devSso(identity: DevIdentity, writ: WritClient): SsoOptions {
  return {
    issuer: identity.provider.issuer,
    clientId: identity.serveClient.clientId,
    clientSecret: identity.serveClient.clientSecret,
    channel: identity.channel,
    writ,
    people: peopleFromFile(identity.directoryFile),
  };
}

/**
 * Runs the worker until clean-up stops it; `workerFailure` rejects if it stops before that (in an
 * object, since an async function returning the bare promise would wait for it).
 */
async function startWorker(
  options: StackOptions,
  temporalAddress: string,
  cleanup: Cleanup,
): Promise<{ workerFailure: Promise<never> }> {
  const { worker, connection: workerConnection } = await createWritWorker({
    ...options.worker,
    databaseUrl: options.logins?.worker ?? options.ledgerUrl,
    ...(options.logins && options.worker.evidence
      ? { evidence: { ...options.worker.evidence, checkpointDatabaseUrl: options.logins.checkpoint } }
      : {}),
    temporalAddress,
    namespace: NAMESPACE,
    taskQueue: options.taskQueue,
  });
  const running = worker.run();
  cleanup.add('the worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await workerConnection.close();
  });
  const workerFailure = running.then(
    () => {
      throw new Error('the worker stopped');
    },
    (error: Error) => {
      throw new Error(`the worker failed: ${error.message}`);
    },
  );
  // Only a caller racing against it sees this; a failure after clean-up began is expected.
  workerFailure.catch(() => undefined);
  return { workerFailure };
}

/** The owner's pool, for the demo's own reads and set-up; serve gets its own login's. */
async function startServeOn(
  options: StackOptions,
  cleanup: Cleanup,
  sso: SsoOptions | undefined,
): Promise<{ pool: pg.Pool; serve: RunningServe }> {
  const pool = createPool(options.ledgerUrl, { max: 4, applicationName: 'writ-demo' });
  cleanup.add('the ledger pool', () => pool.end());
  const servePool = options.logins ? createPool(options.logins.serve, { max: 4, applicationName: 'writ-serve' }) : pool;
  if (options.logins) cleanup.add("writ serve's pool", () => servePool.end());
  const serve = await startServe({
    pool: servePool,
    host: options.serve.host,
    port: options.serve.port,
    linkSecret: options.serve.linkSecret,
    ...(sso ? { sso } : {}),
  });
  cleanup.add('writ serve', () => serve.close());
  return { pool, serve };
}

/** The Web UI's page for one operation (its workflow id is the operationId). */
export function webUiOperation(webUi: string, operationId: string): string {
  return `${webUi}/namespaces/${NAMESPACE}/workflows/${encodeURIComponent(operationId)}`;
}

/** The Web UI's workflow list filtered with a visibility query, e.g. `WritActor="alice"`. */
export function webUiQuery(webUi: string, query: string): string {
  return `${webUi}/namespaces/${NAMESPACE}/workflows?query=${encodeURIComponent(query)}`;
}
