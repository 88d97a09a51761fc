import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { migrationsDir } from '../ledger/migrate.js';
import type { CheckResult } from './check.js';
import { fail, ok } from './check.js';

export interface MigrationFacts {
  /** The migration names in order, as node-pg-migrate records them (file name without `.sql`). */
  names: string[];
  /** Tables the migrations create in schema writ. */
  tables: string[];
  /** Tables the migrations put under forced row-level security. */
  forcedRls: string[];
}

/** What the migrations in `migrations/` make, read from their SQL: a new migration is checked with no change here. */
export async function migrationFacts(dir = migrationsDir()): Promise<MigrationFacts> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  const sql = (await Promise.all(files.map((file) => readFile(join(dir, file), 'utf8')))).join('\n');
  return {
    names: files.map((file) => file.replace(/\.sql$/, '')),
    tables: [...sql.matchAll(/CREATE TABLE (writ\.\w+)/g)].map((m) => m[1]!),
    forcedRls: [...new Set([...sql.matchAll(/ALTER TABLE (writ\.\w+) FORCE ROW LEVEL SECURITY/g)].map((m) => m[1]!))],
  };
}

const MIGRATE = 'writ migrate, as the ledger owner (DATABASE_URL=postgres://<owner>@<host>/<db> writ migrate)';

/**
 * The ledger's schema is the one this build expects. The migrations table tells exactly when the
 * login may read it; a service login usually may not, and then every table the migrations create
 * must exist.
 */
export async function migrationsCheck(pool: pg.Pool, facts: MigrationFacts): Promise<CheckResult> {
  const latest = facts.names.at(-1) ?? '(none)';
  const { rows } = await pool.query<{ records: string | null; readable: boolean | null }>(
    // By oid, not by name: resolving a name in a schema the login may not use is itself refused.
    `SELECT to_regclass('writ.records')::text AS records,
            (SELECT has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'writ_meta' AND c.relname = 'migrations') AS readable`,
  );
  if (!rows[0]?.records) return fail('migrations', 'there is no ledger here (no table writ.records)', MIGRATE);
  if (rows[0].readable) {
    const applied = new Set(
      (await pool.query<{ name: string }>('SELECT name FROM writ_meta.migrations')).rows.map((row) => row.name),
    );
    const missing = facts.names.filter((name) => !applied.has(name));
    return missing.length
      ? fail('migrations', `not applied: ${missing.join(', ')}`, MIGRATE)
      : ok('migrations', `all ${facts.names.length} applied (latest ${latest})`);
  }
  const { rows: absent } = await pool.query<{ name: string }>(
    'SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NULL',
    [facts.tables],
  );
  return absent.length
    ? fail('migrations', `the ledger lacks ${absent.map((row) => row.name).join(', ')}`, MIGRATE)
    : ok('migrations', `every table up to ${latest} exists (this login cannot read writ_meta.migrations)`);
}
