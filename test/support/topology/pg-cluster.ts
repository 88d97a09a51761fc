/**
 * A PostgreSQL cluster of the test's own (Debian's pg_createcluster), so a test can restart
 * PostgreSQL itself, listen on addresses of its own and make cluster-wide roles (temporal,
 * writ_worker, ...) exactly as Compose's init scripts do, without touching the machine's cluster
 * that the other tests share. Host connections need passwords (scram-sha-256), as in the postgres
 * image; the local socket trusts, as the image's init phase does.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../../src/net/ports.js';

const run = promisify(execFile);

export interface PgCluster {
  version: string;
  name: string;
  port: number;
  /** The Unix socket directory (trust, as the superuser postgres). */
  socketDir: string;
  /** A TCP URL for a login (scram-sha-256). */
  url(user: string, password: string, database: string, host?: string): string;
  /** The superuser over the socket. */
  superuserUrl(database?: string): string;
  restart(): Promise<void>;
  drop(): Promise<void>;
}

export interface PgClusterOptions {
  /** Unique per test run; letters, digits and underscores. */
  name: string;
  /** Addresses to listen on besides 127.0.0.1 (a veth end, say). */
  listen?: string[];
  /** Extra pg_hba networks that may log in with a password, e.g. 10.200.0.0/24. */
  hostNetworks?: string[];
}

export function installedPostgresVersion(): string {
  const versions = readdirSync('/etc/postgresql').sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('no PostgreSQL cluster configuration under /etc/postgresql');
  return versions[0];
}

async function sh(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(command, args, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || (error as Error).message}`, {
      cause: error,
    });
  }
}

export async function createPgCluster(options: PgClusterOptions): Promise<PgCluster> {
  const version = installedPostgresVersion();
  const port = await freePort();
  const socketDir = '/var/run/postgresql';
  const listen = ['127.0.0.1', ...(options.listen ?? [])].join(',');
  const dropHalfMade = () => sh('pg_dropcluster', ['--stop', version, options.name]).catch(() => undefined);
  try {
    await sh('pg_createcluster', [
      version,
      options.name,
      '--port',
      String(port),
      // Two Temporal nodes (four services each, with their own pools), workers, serve and the test.
      '-o',
      'max_connections=400',
      '-o',
      'shared_buffers=64MB',
      '--',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
    ]);
    // pg_createcluster's -o writes values unquoted, which a list of addresses cannot be: the last
    // setting in the file wins, so append it, and the networks that may log in, before the first start.
    const conf = join('/etc/postgresql', version, options.name);
    const hba = (options.hostNetworks ?? []).map((net) => `host all all ${net} scram-sha-256`);
    appendFileSync(join(conf, 'postgresql.conf'), `\nlisten_addresses = '${listen}'\n`);
    if (hba.length) appendFileSync(join(conf, 'pg_hba.conf'), `\n${hba.join('\n')}\n`);
    await sh('pg_ctlcluster', ['--skip-systemctl-redirect', version, options.name, 'start']);
  } catch (error) {
    await dropHalfMade();
    throw error;
  }
  const cluster: PgCluster = {
    version,
    name: options.name,
    port,
    socketDir,
    url: (user, password, database, host = '127.0.0.1') =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${database}`,
    superuserUrl: (database = 'postgres') =>
      `postgres://postgres@/${database}?host=${encodeURIComponent(socketDir)}&port=${port}`,
    restart: async () => {
      await sh('pg_ctlcluster', ['--skip-systemctl-redirect', version, options.name, 'restart']);
    },
    drop: async () => {
      await sh('pg_dropcluster', ['--stop', version, options.name]).catch(() => undefined);
    },
  };
  return cluster;
}

/** Clusters a crashed earlier run left behind, by their name prefix. */
export async function dropLeftoverClusters(prefix: string): Promise<void> {
  const listed = await sh('pg_lsclusters', ['--no-header']);
  for (const line of listed.split('\n')) {
    const [version, name] = line.trim().split(/\s+/);
    if (version && name?.startsWith(prefix))
      await sh('pg_dropcluster', ['--stop', version, name]).catch(() => undefined);
  }
}

/** Runs SQL as the cluster's superuser over the socket. */
export async function asSuperuser<T>(
  cluster: PgCluster,
  database: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: cluster.superuserUrl(database) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
