import type pg from 'pg';
import { explainConnectionError } from '../db/pool.js';
import { isWritError } from '../model/errors.js';
import type { CheckResult } from './check.js';
import { fail, guarded, messageOf, ok, skip } from './check.js';
import type { DoctorContext } from './context.js';
import { expectedLogin } from './context.js';
import { migrationFacts, migrationsCheck } from './migrations.js';

/** The checks that need DATABASE_URL, in the order they print. */
export const DATABASE_CHECKS = ['database-login', 'migrations', 'row-level-security', 'checkpoint-freshness', 'clock'];

/** Connects once; a database that does not answer fails here and skips the checks that need it. */
export async function reachDatabase(pool: pg.Pool, url: string): Promise<CheckResult | undefined> {
  try {
    await pool.query('SELECT 1');
    return undefined;
  } catch (error) {
    const explained = explainConnectionError(error, url);
    const hint = isWritError(explained) ? explained.hint : undefined;
    return fail(
      'database-login',
      messageOf(explained),
      hint ?? 'check DATABASE_URL: postgres://<login>:<password>@<host>:5432/<database>',
    );
  }
}

/**
 * The login the service connects as cannot step outside the ledger's rules: a superuser or a
 * BYPASSRLS role ignores row-level security, and with it the append-only policies.
 */
export async function loginCheck(pool: pg.Pool, context: DoctorContext): Promise<CheckResult> {
  const { rows } = await pool.query<{ name: string; rolsuper: boolean; rolbypassrls: boolean }>(
    'SELECT rolname AS name, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user',
  );
  const login = rows[0]!;
  const want = expectedLogin(context.role);
  if (login.rolsuper)
    return fail(
      'database-login',
      `DATABASE_URL logs in as ${login.name}, a superuser: it ignores row-level security and could rewrite the ledger`,
      `set DATABASE_URL to a login of its own (${want}, made by deploy/postgres/initdb/writ-logins.psql), not ${login.name}`,
    );
  if (login.rolbypassrls)
    return fail(
      'database-login',
      `DATABASE_URL logs in as ${login.name}, which bypasses row-level security`,
      `ALTER ROLE ${login.name} NOBYPASSRLS; (as a superuser), or use the ${want} login`,
    );
  return ok('database-login', `${login.name}: not a superuser, no BYPASSRLS`);
}

/** Every table the migrations put under row-level security has it enabled and forced (on its owner too). */
export async function rowSecurityCheck(pool: pg.Pool, tables: string[]): Promise<CheckResult> {
  const { rows } = await pool.query<{ name: string; enabled: boolean | null; forced: boolean | null }>(
    `SELECT name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
       FROM unnest($1::text[]) AS name LEFT JOIN pg_class c ON c.oid = to_regclass(name)`,
    [tables],
  );
  const present = rows.filter((row) => row.enabled !== null);
  if (!present.length) return skip('row-level-security', 'no ledger tables yet');
  const lax = present.filter((row) => !row.enabled || !row.forced);
  if (lax.length)
    return fail(
      'row-level-security',
      lax.map((row) => `${row.name}: ${row.enabled ? 'enabled but not forced' : 'not enabled'}`).join('; '),
      `as the ledger owner: ${lax.map((row) => `ALTER TABLE ${row.name} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;`).join(' ')}`,
    );
  return ok('row-level-security', `enabled and forced on ${present.map((row) => row.name).join(', ')}`);
}

/** Login, schema and row-level security, in that order. */
export async function ledgerChecks(pool: pg.Pool, context: DoctorContext): Promise<CheckResult[]> {
  const facts = await migrationFacts();
  return [
    await guarded('database-login', 'check DATABASE_URL', () => loginCheck(pool, context)),
    await guarded('migrations', 'writ migrate', () => migrationsCheck(pool, facts)),
    await guarded('row-level-security', 'writ migrate', () => rowSecurityCheck(pool, facts.forcedRls)),
  ];
}
