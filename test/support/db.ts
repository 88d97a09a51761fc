import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { createPool } from '../../src/db/pool.js';
import { adminUrl, databaseUrlFor } from './urls.js';

export interface TestLedger {
  name: string;
  url: string;
  /** Connects as the superuser the tests run as. */
  pool: pg.Pool;
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run the tests with \`npm test\`, which prepares the database and the Temporal server`,
    );
  return value;
}

/**
 * A migrated, empty ledger database of this test's own, cloned from the run's template and
 * dropped when the test ends, so tests that damage a chain on purpose harm nobody else.
 */
export function freshLedger(t: TestContext | { after: (fn: () => Promise<void>) => void }): Promise<TestLedger> {
  return freshDatabase(t, { template: requireEnv('WRIT_TEST_TEMPLATE') });
}

/**
 * A database of this test's own, dropped when the test ends: a clone of `template`, or an empty
 * one with no ledger in it (a target system kept apart from Writ's).
 */
export async function freshDatabase(
  t: TestContext | { after: (fn: () => Promise<void>) => void },
  options: { template?: string } = {},
): Promise<TestLedger> {
  const name = `${requireEnv('WRIT_TEST_RUN')}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}${options.template ? ` TEMPLATE ${options.template}` : ''}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrlFor(name);
  const pool = createPool(url, { max: 8, applicationName: 'writ-test' });
  t.after(async () => {
    await pool.end();
    const dropper = new pg.Client({ connectionString: adminUrl() });
    await dropper.connect();
    await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await dropper.end();
  });
  return { name, url, pool };
}

export function temporalAddress(): string {
  return requireEnv('TEMPORAL_ADDRESS');
}

/** The test run's Temporal Web UI (the harness starts the dev server with it). */
export function temporalUiUrl(): string {
  return requireEnv('WRIT_TEST_TEMPORAL_UI');
}
