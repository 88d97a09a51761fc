import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { redactUrl } from '../db/pool.js';
import { WritError } from '../model/errors.js';
import type { EmbeddedOptions } from './embedded-postgres.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

export const DEFAULT_LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Where the PostgreSQL server came from: the user's DATABASE_URL, the local default, or one we started. */
export type ServerSource = 'DATABASE_URL' | 'local' | 'embedded';

export interface DatabaseServer {
  source: ServerSource;
  /** A connection that may create and drop databases. */
  adminUrl: string;
  /** The embedded cluster's directory, when we started one. */
  embeddedDir?: string;
  /** Stops the embedded server; nothing for a server we did not start. */
  close(): Promise<void>;
}

export interface FindServerOptions {
  /** DATABASE_URL (or --database-url), tried first. */
  databaseUrl?: string;
  /** The local server to try next (WRIT_DEMO_LOCAL_URL; default postgres@127.0.0.1:5432). */
  localUrl?: string;
  /** Start an embedded PostgreSQL when neither answers; false: fail instead. */
  embedded: EmbeddedOptions | false;
  log: (line: string) => void;
}

/** DATABASE_URL, else a local server, else an embedded one: the first that answers. */
export async function findDatabaseServer(options: FindServerOptions): Promise<DatabaseServer> {
  const tried: string[] = [];
  const candidates: Array<[ServerSource, string]> = [];
  if (options.databaseUrl) candidates.push(['DATABASE_URL', options.databaseUrl]);
  candidates.push(['local', options.localUrl || DEFAULT_LOCAL_URL]);
  for (const [source, url] of candidates) {
    const answer = await probe(url);
    if (answer.ok) return { source, adminUrl: answer.url, close: async () => undefined };
    tried.push(`${source} ${redactUrl(url)}: ${answer.problem}`);
    options.log(`PostgreSQL at ${redactUrl(url)} (${source}) is not usable: ${answer.problem}`);
  }
  if (!options.embedded) {
    throw new WritError(
      'DB_UNREACHABLE',
      `no PostgreSQL server answers (${tried.join('; ')})`,
      'Start PostgreSQL, or set DATABASE_URL to a server where you may create databases.',
    );
  }
  const embedded = await startEmbeddedPostgres({ ...options.embedded, log: options.log });
  return { source: 'embedded', adminUrl: embedded.adminUrl, embeddedDir: embedded.dir, close: () => embedded.stop() };
}

/**
 * Connects to the URL as given; when its database does not exist yet (a DATABASE_URL naming the
 * ledger we are about to create), the server's `postgres` database serves as the admin one.
 */
async function probe(url: string): Promise<{ ok: true; url: string } | { ok: false; problem: string }> {
  for (const candidate of [url, withDatabase(url, 'postgres')]) {
    const client = new pg.Client({
      connectionString: candidate,
      connectionTimeoutMillis: 3000,
      application_name: 'writ-demo',
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return { ok: true, url: candidate };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '3D000' && candidate === url) continue;
      return { ok: false, problem: code ? `${code} ${(error as Error).message}` : (error as Error).message };
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return { ok: false, problem: 'neither the database named in the URL nor `postgres` exists' };
}

export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

export function randomDatabaseName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'writ-demo' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates the database; `fresh` refuses one that already exists (a demo never reuses data). */
export async function createDatabase(
  adminUrl: string,
  name: string,
  options: { fresh: boolean },
): Promise<'created' | 'exists'> {
  return withAdmin(adminUrl, async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) {
      if (options.fresh) throw new WritError('CONFIG', `database ${name} already exists`, 'Pick another name.');
      return 'exists';
    }
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    } catch (error) {
      throw new WritError(
        'CONFIG',
        `cannot create database ${name} at ${redactUrl(adminUrl)}: ${(error as Error).message}`,
        'The demo needs a PostgreSQL role that may create databases (CREATEDB); set DATABASE_URL to one.',
        { cause: error },
      );
    }
    return 'created';
  });
}

/** Drops the database, ending any session still in it (a stopped worker's pool may linger a moment). */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdmin(adminUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
  );
}
