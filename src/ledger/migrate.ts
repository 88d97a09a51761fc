import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { explainConnectionError } from '../db/pool.js';

/**
 * Applies the ordered migrations in `migrations/` (node-pg-migrate: it records what ran in a
 * table and holds an advisory lock, so concurrent or repeated runs are safe and idempotent).
 */
export async function migrate(
  databaseUrl: string,
  options: { log?: (line: string) => void; createDatabase?: boolean } = {},
): Promise<string[]> {
  if (options.createDatabase) await createDatabaseIfMissing(databaseUrl, options.log);
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'writ-migrate' });
  try {
    await client.connect();
  } catch (error) {
    throw explainConnectionError(error, databaseUrl);
  }
  try {
    const ran = await runner({
      dbClient: client,
      dir: migrationsDir(),
      direction: 'up',
      migrationsTable: 'migrations',
      migrationsSchema: 'writ_meta',
      createMigrationsSchema: true,
      singleTransaction: true,
      checkOrder: true,
      advisoryLockMode: 'wait',
      log: () => undefined,
    });
    for (const migration of ran) options.log?.(`applied ${migration.name}`);
    return ran.map((migration) => migration.name);
  } finally {
    await client.end();
  }
}

/** Where the ordered migrations live, for `writ migrate` and for `writ doctor` comparing against them. */
export function migrationsDir(): string {
  // Compiled code lives in dist/src/ledger, sources in src/ledger; migrations sit at the package root.
  const here = fileURLToPath(new URL('.', import.meta.url));
  const root = here.includes('/dist/') ? new URL('../../../', import.meta.url) : new URL('../../', import.meta.url);
  return fileURLToPath(new URL('migrations', root));
}

async function createDatabaseIfMissing(databaseUrl: string, log?: (line: string) => void): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) return;
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString(), application_name: 'writ-migrate' });
  try {
    await admin.connect();
  } catch (error) {
    throw explainConnectionError(error, databaseUrl);
  }
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!exists.rowCount) {
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      log?.(`created database ${name}`);
    }
  } finally {
    await admin.end();
  }
}
