import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BuiltinConnectorConfig } from '../connectors/builtins/index.js';
import { builtinConfigFromEnv } from '../connectors/builtins/index.js';
import { redactUrl } from '../db/pool.js';
import type { ServiceUrls } from './logins.js';
import { prepareLogins } from './logins.js';
import { WritError } from '../model/errors.js';
import { directorySink } from '../evidence/anchors.js';
import type { EvidenceConfig } from '../evidence/config.js';
import { DEFAULT_ORIGIN } from '../evidence/config.js';
import { DEFAULT_KEY_NAME } from '../evidence/keys.js';
import { migrate } from '../ledger/migrate.js';
import { Cleanup, holdSignalsDuringCleanup, nextSignal } from './cleanup.js';
import { createDatabase, findDatabaseServer, withDatabase } from './database.js';
import { isListening } from '../net/ports.js';
import type { SigningKey } from './signing-key.js';
import { ensureSigningKey } from './signing-key.js';
import type { DevOutput } from './dev-ready.js';
import { devOutput, printReady } from './dev-ready.js';
import { startStack } from './stack.js';

export const DEV_DATABASE = 'writ_dev';

export interface DevOptions {
  /**
   * The ledger's database as given (DATABASE_URL, --database-url); absent: `writ_dev` on the local or
   * embedded server.
   */
  databaseUrl?: string;
  localUrl?: string;
  embedded: boolean;
  /** Where the dev server's state, the signing key, anchors and files live (default `.writ`). */
  stateDir: string;
  port: number;
  uiPort: number;
  servePort: number;
  /** The development identity provider's port; default: the one after servePort. */
  identityPort?: number;
  /** The embedded PostgreSQL's port, when one is needed. */
  postgresPort: number;
  taskQueue: string;
  policyFile?: string;
  approversFile?: string;
  workflowBundlePath?: string;
}

/**
 * `writ dev`: the demo's stack for everyday development, on things that last: the dev server's
 * history in a file, the `writ_dev` database, the signing key and the link secret in the state
 * directory. Runs until SIGINT/SIGTERM, then stops everything it started (and drops nothing).
 */
export async function runDev(options: DevOptions): Promise<void> {
  const say = devOutput((text) => process.stdout.write(text));
  const note = (line: string) => process.stderr.write(`   ${line}\n`);
  const stateDir = resolve(options.stateDir);
  await mkdir(stateDir, { recursive: true });
  await assertPortsFree(options);
  const cleanup = new Cleanup();
  const signals = nextSignal();
  // A Ctrl-C while starting stops the start at its next step; clean-up then undoes what exists.
  const abort = new AbortController();
  void signals.signal.then((signal) => abort.abort(new WritError('USAGE', `interrupted by ${signal} while starting`)));
  try {
    say.line(
      'writ dev: a Temporal dev server with its Web UI, a Writ worker, writ serve and a ledger, for local development.',
    );
    const ledgerUrl = await ledgerDatabase(options, stateDir, cleanup, note);
    abort.signal.throwIfAborted();
    const { key, anchorDir, evidence } = await devEvidence(stateDir);
    const logins = await devLogins(ledgerUrl, note);
    const connectors = await devConnectors(logins?.connector ?? ledgerUrl, stateDir);
    const policyFile = options.policyFile ?? (await devPolicy(stateDir));
    const stack = await startStack(
      {
        ledgerUrl,
        ...(logins ? { logins } : {}),
        taskQueue: options.taskQueue,
        temporal: { port: options.port, uiPort: options.uiPort, dbFilename: join(stateDir, 'temporal.db') },
        worker: {
          connectors,
          evidence,
          policyFile,
          ...(options.approversFile ? { approversFile: options.approversFile } : {}),
          ...(options.workflowBundlePath ? { workflowBundlePath: options.workflowBundlePath } : {}),
        },
        serve: { host: '127.0.0.1', port: options.servePort, linkSecret: await linkSecret(stateDir) },
        // The provider keeps its port, so its issuer (which the directory and the records name) stays the same.
        identity: { dir: stateDir, providerPort: identityPort(options) },
        log: note,
        signal: abort.signal,
      },
      cleanup,
    );

    printReady(say, { options, stateDir, ledgerUrl, stack, connectors, loginsMade: logins !== null, key, anchorDir });
    say.line('writ dev ready (Ctrl-C to stop)');
    const stopped = await Promise.race([signals.signal, stack.workerFailure]);
    say.line(`\n${stopped}: stopping`);
  } finally {
    const release = holdSignalsDuringCleanup((line) => say.line(`  ${line}`));
    signals.stop();
    await stopDev(cleanup, say, release);
  }
}

/** The CLI's default origin and key name, so the printed env is all `writ verify` and `writ export` need. */
async function devEvidence(
  stateDir: string,
): Promise<{ key: SigningKey; anchorDir: string; evidence: EvidenceConfig }> {
  const key = await ensureSigningKey(join(stateDir, 'keys'), DEFAULT_KEY_NAME);
  const anchorDir = join(stateDir, 'anchors');
  const evidence: EvidenceConfig = {
    origin: DEFAULT_ORIGIN,
    keyName: key.name,
    signingKeyPath: key.path,
    verifierKey: key.signer.verifierKey,
    anchors: [directorySink(anchorDir)],
  };
  return { key, anchorDir, evidence };
}

/**
 * Unless told otherwise, the postgres connector writes the ledger's database as its own login,
 * which may write only the tables granted to it; a local sandbox without a database of its own
 * opts in to that on purpose (never the writ schemas).
 */
async function devConnectors(connectorUrl: string, stateDir: string): Promise<BuiltinConnectorConfig> {
  const connectors = builtinConfigFromEnv(connectorUrl);
  if (!process.env.WRIT_POSTGRES_CONNECTOR_URL) connectors.postgresAllowLedgerDatabase = true;
  if (!connectors.filesRoot) connectors.filesRoot = join(stateDir, 'files');
  await mkdir(connectors.filesRoot, { recursive: true });
  return connectors;
}

/**
 * Without --policy, a policy with no rules: nothing needs approval, but who asks is verified as
 * everywhere else (policy's default), so what works here works against a governed worker.
 */
async function devPolicy(stateDir: string): Promise<string> {
  const path = join(stateDir, 'policy.json');
  await writeFile(path, `${JSON.stringify({ id: 'writ-dev', rules: [] }, null, 2)}\n`);
  return path;
}

/** The development identity provider listens next to writ serve. */
function identityPort(options: DevOptions): number {
  return options.identityPort ?? options.servePort + 1;
}

/** Stops everything `writ dev` started (dropping nothing); exit code 2 when something did not stop cleanly. */
async function stopDev(cleanup: Cleanup, say: DevOutput, release: () => void): Promise<void> {
  const failures = await cleanup.run((line) => say.line(`  ${line}`));
  release();
  say.line(
    failures.length
      ? `writ dev stopped, but ${failures.length} thing(s) did not stop cleanly (see above)`
      : 'writ dev stopped',
  );
  if (failures.length) process.exitCode = 2;
}

/** A port already taken would fail deep inside a start; name it and the flag that moves it, before anything starts. */
async function assertPortsFree(options: DevOptions): Promise<void> {
  for (const [port, what, flag] of [
    [options.port, 'Temporal', '--port'],
    [options.uiPort, 'the Web UI', '--ui-port'],
    [options.servePort, 'writ serve', '--serve-port'],
    [identityPort(options), 'the development identity provider', '--identity-port'],
  ] as const) {
    if (await isListening(port)) {
      throw new WritError(
        'CONFIG',
        `port ${port}, wanted for ${what}, is already in use (another \`writ dev\` or Temporal dev server?)`,
        `Stop it, or pick another port with ${flag}.`,
      );
    }
  }
}

/**
 * The services' own logins; without the right to create roles (a DATABASE_URL that is not a
 * superuser's), everything runs as that URL, and the worker says so loudly.
 */
async function devLogins(ledgerUrl: string, note: (line: string) => void): Promise<ServiceUrls | null> {
  try {
    return await prepareLogins(ledgerUrl);
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
    note(
      `cannot create Writ's login roles as ${redactUrl(ledgerUrl)} (${(error as Error).message}): the worker and writ serve run as that login`,
    );
    return null;
  }
}

/**
 * The ledger's database: as given, or `writ_dev` on the first server that answers; created and
 * migrated when missing.
 */
async function ledgerDatabase(
  options: DevOptions,
  stateDir: string,
  cleanup: Cleanup,
  note: (line: string) => void,
): Promise<string> {
  if (options.databaseUrl) {
    await migrate(options.databaseUrl, { createDatabase: true, log: note });
    return options.databaseUrl;
  }
  const server = await findDatabaseServer({
    ...(options.localUrl ? { localUrl: options.localUrl } : {}),
    embedded: options.embedded ? { dir: embeddedDir(stateDir), persistent: true, port: options.postgresPort } : false,
    log: note,
  });
  cleanup.add(server.source === 'embedded' ? 'the embedded PostgreSQL' : 'the database server', () => server.close());
  if ((await createDatabase(server.adminUrl, DEV_DATABASE, { fresh: false })) === 'created')
    note(`created database ${DEV_DATABASE}`);
  return withDatabase(server.adminUrl, DEV_DATABASE);
}

/**
 * Kept under the state directory, except as root: PostgreSQL then runs as an unprivileged user
 * who usually cannot reach a checkout under /root, so it lives in the temp directory instead.
 */
function embeddedDir(stateDir: string): string {
  if (process.getuid?.() !== 0) return join(stateDir, 'postgres');
  return join(tmpdir(), `writ-dev-postgres-${createHash('sha256').update(stateDir).digest('hex').slice(0, 12)}`);
}

/** Signed timeline links stay valid across restarts because the secret does. */
async function linkSecret(stateDir: string): Promise<string> {
  const path = join(stateDir, 'link-secret');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const secret = randomBytes(32).toString('hex');
    await writeFile(path, `${secret}\n`, { mode: 0o600 });
    return secret;
  }
}
