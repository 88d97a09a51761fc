import type pg from 'pg';
import { configFromEnv } from '../../config/writ-config.js';
import type { PoolOptions } from '../../db/pool.js';
import { assertReachable, createPool } from '../../db/pool.js';

export interface GlobalOptions {
  databaseUrl?: string;
}

export function databaseUrlFrom(options: GlobalOptions): string {
  return options.databaseUrl ?? configFromEnv().databaseUrl;
}

/** Opens a pool, fails early with a clear message when the database is not there, always closes. */
export async function withPool<T>(
  options: GlobalOptions,
  work: (pool: pg.Pool) => Promise<T>,
  poolOptions: PoolOptions = {},
): Promise<T> {
  const url = databaseUrlFrom(options);
  const pool = createPool(url, { max: 4, applicationName: 'writ-cli', ...poolOptions });
  try {
    await assertReachable(pool, url);
    return await work(pool);
  } finally {
    await pool.end();
  }
}
