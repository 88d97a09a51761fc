import pg from 'pg';
import { WritError } from '../model/errors.js';

// int8 columns (seq) arrive as numbers: a chain passing 2^53 records is not a concern we have.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /**
   * Bounds every statement (server side) and every wait for a connection or an answer (client
   * side), for readers that must give up rather than hang, such as a metrics scrape.
   */
  timeoutMs?: number;
}

/**
 * A pool whose idle-connection errors (a restarted server, a terminated backend) are logged
 * rather than crashing the process; the next checkout simply gets a fresh connection.
 */
export function createPool(databaseUrl: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'writ',
    ...(options.timeoutMs
      ? {
          statement_timeout: options.timeoutMs,
          query_timeout: options.timeoutMs + 1000,
          connectionTimeoutMillis: options.timeoutMs,
        }
      : {}),
  });
  pool.on('error', (error) => {
    process.emitWarning(`PostgreSQL connection lost while idle: ${error.message}`);
  });
  return pool;
}

/** Turns a connection failure into an error that says what to do. */
export function explainConnectionError(error: unknown, databaseUrl: string): unknown {
  const code = (error as { code?: string }).code;
  const where = redactUrl(databaseUrl);
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'EHOSTUNREACH' ||
    code === 'ETIMEDOUT' ||
    code === 'EAI_AGAIN'
  ) {
    return new WritError(
      'DB_UNREACHABLE',
      `no PostgreSQL server answers at ${where} (${code})`,
      'Start PostgreSQL, or point Writ at one: DATABASE_URL=postgres://user@host:5432/dbname (or --database-url).',
      { cause: error },
    );
  }
  if (code === '3D000') {
    return new WritError(
      'DB_MISSING',
      `the database in ${where} does not exist`,
      'Create it and the ledger with `writ migrate` (it creates the database when it can), or set DATABASE_URL to an existing database.',
      { cause: error },
    );
  }
  if (code === '28P01' || code === '28000') {
    return new WritError(
      'DB_UNREACHABLE',
      `PostgreSQL at ${where} refused the credentials (${code})`,
      'Check the user and password in DATABASE_URL.',
      { cause: error },
    );
  }
  return error;
}

export function redactUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(an unparseable DATABASE_URL)';
  }
}

/** Connects once to surface a clear error before any real work starts. */
export async function assertReachable(pool: pg.Pool, databaseUrl: string): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    throw explainConnectionError(error, databaseUrl);
  }
}
