import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../src/ledger/migrate.js';

export const ADMIN_URL =
  process.env.WRIT_BENCH_ADMIN_URL || process.env.WRIT_TEST_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** A migrated database for one benchmark run, dropped afterwards. */
export async function withBenchDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const name = `writ_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    await migrate(url.toString());
    return await work(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

export function perSecond(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

export function ratio(value: number, baseline: number): number {
  return Math.round((value / baseline) * 100) / 100;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function log(line: string): void {
  console.error(line);
}
