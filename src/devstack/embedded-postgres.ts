import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { WritError } from '../model/errors.js';
import { freePort } from '../net/ports.js';
import type { Binaries, Owner } from './embedded-postgres-binaries.js';
import {
  SUPERUSER,
  exists,
  findBinaries,
  reachableBinaries,
  runAs,
  unprivilegedOwner,
} from './embedded-postgres-binaries.js';

/**
 * A throwaway (or, for `writ dev`, persistent) PostgreSQL cluster from the binaries the
 * `embedded-postgres` package ships, for machines with no PostgreSQL at all.
 *
 * We run the binaries ourselves rather than through the package's `EmbeddedPostgres` class:
 * - importing that class installs async-exit-hook handlers that call `process.exit()` on SIGINT
 *   and SIGTERM, which would cut our own clean-up (drop the database, stop the worker) short;
 * - as root, the class runs initdb/postgres as a system user that must be called `postgres`,
 *   and otherwise offers only `createPostgresUser`, which runs `useradd` on the host.
 * Here, as root we drop to `postgres` when that user exists and to `nobody` otherwise, and
 * nothing on the host changes but the cluster's own directory.
 */
export interface EmbeddedPostgres {
  /** A superuser connection to the `postgres` database, with the cluster's random password. */
  adminUrl: string;
  port: number;
  dir: string;
  /** Stops the server; removes its directory unless it is persistent. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** The cluster's directory (its data directory is `<dir>/data`). Created when missing. */
  dir: string;
  /** Keep the directory on stop and reuse it on the next start (`writ dev`). */
  persistent?: boolean;
  /** 0 or absent: any free port. */
  port?: number;
  log?: (line: string) => void;
}

const SHUTDOWN_GRACE_MS = 15_000;

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const owner = await unprivilegedOwner();
  const { binaries, libraries } = await reachableBinaries(await findBinaries(), owner, log);
  const cluster: Cluster = {
    owner,
    binaries,
    env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C', ...libraries },
    dir: resolve(options.dir),
    persistent: options.persistent ?? false,
  };
  await makeClusterDir(cluster);
  const fresh = !(cluster.persistent && (await exists(join(dataDir(cluster), 'PG_VERSION'))));
  if (fresh) await initCluster(cluster, log);
  const password = (await readFile(passwordFile(cluster), 'utf8')).trim();
  const port = options.port || (await freePort());
  const server = spawnServer(cluster, port);
  const adminUrl = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  try {
    await waitUntilReady(adminUrl, server.exited, server.output);
  } catch (error) {
    server.child.kill('SIGKILL');
    if (!cluster.persistent || fresh) await rm(cluster.dir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  log(`embedded PostgreSQL ${fresh ? 'started' : 'restarted'} on 127.0.0.1:${port}${owner ? ` as ${owner.name}` : ''}`);
  let stopped: Promise<void> | undefined;
  return { adminUrl, port, dir: cluster.dir, stop: () => (stopped ??= stopServer(cluster, server)) };
}

/** Where and as whom one cluster runs. */
interface Cluster {
  owner: Owner | null;
  binaries: Binaries;
  env: NodeJS.ProcessEnv;
  dir: string;
  persistent: boolean;
}

interface Server {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

const dataDir = (cluster: Cluster) => join(cluster.dir, 'data');
const passwordFile = (cluster: Cluster) => join(cluster.dir, 'password');

async function makeClusterDir({ dir, owner }: Cluster): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (owner) await chown(dir, owner.uid, owner.gid);
  await chmod(dir, 0o700);
}

/** A new data directory with a fresh random superuser password. */
async function initCluster(cluster: Cluster, log: (line: string) => void): Promise<void> {
  const { owner } = cluster;
  const data = dataDir(cluster);
  await rm(data, { recursive: true, force: true });
  await writeFile(passwordFile(cluster), `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
  if (owner) await chown(passwordFile(cluster), owner.uid, owner.gid);
  log(`initialising an embedded PostgreSQL cluster in ${data}`);
  await runAs(
    owner,
    cluster.binaries.initdb,
    [
      `--pgdata=${data}`,
      `--username=${SUPERUSER}`,
      '--auth=scram-sha-256',
      `--pwfile=${passwordFile(cluster)}`,
      '--encoding=UTF8',
      '--no-locale',
      ...(cluster.persistent ? [] : ['--no-sync']),
    ],
    cluster.env,
  );
}

function spawnServer(cluster: Cluster, port: number): Server {
  const { owner } = cluster;
  const child = spawn(
    cluster.binaries.postgres,
    [
      '-D',
      dataDir(cluster),
      '-p',
      String(port),
      // TCP on loopback only, and the socket in our own 0700 directory, not in /tmp for everyone.
      '-c',
      'listen_addresses=127.0.0.1',
      '-k',
      cluster.dir,
      // A throwaway cluster trades durability for speed; a persistent one keeps PostgreSQL's defaults.
      ...(cluster.persistent ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    ],
    {
      env: cluster.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      // Its own process group: a Ctrl-C in the terminal reaches us, and we stop the server after
      // dropping the demo's database, instead of it going down before the clean-up can run.
      detached: true,
    },
  );
  const output = tail(child);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, exited, output };
}

async function stopServer(cluster: Cluster, { child, exited }: Server): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    // SIGINT is PostgreSQL's "fast shutdown": sessions are ended, the server stops cleanly.
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
  if (!cluster.persistent) await rm(cluster.dir, { recursive: true, force: true });
}

/** The last lines the server printed, for an error that says why it did not come up. */
function tail(child: ChildProcess): () => string {
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => text.trim();
}

async function waitUntilReady(url: string, exited: Promise<number | null>, output: () => string): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (gone !== undefined)
      throw new WritError(
        'CONFIG',
        `the embedded PostgreSQL exited (code ${gone}) before accepting connections:\n${output()}`,
      );
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new WritError(
          'CONFIG',
          `the embedded PostgreSQL did not accept connections within 60 s: ${(error as Error).message}\n${output()}`,
        );
      }
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((done) => setTimeout(done, 150));
  }
}
