import pg from 'pg';
import { WritError } from '../model/errors.js';
import { keepConnectionsOnRefusal } from './keep-on-refusal.js';

// int8 columns (seq) arrive as numbers: a chain passing 2^53 records is not a concern we have.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /**
   * A long-running service's pool (the worker's ledger, checkpoint and connector pools): a query
   * that gets no answer fails after WRIT_DB_QUERY_TIMEOUT_MS (default 30 s) so its activity
   * retries, and the server ends a session whose client vanished mid-transaction, which would
   * otherwise hold the chain's head lock against every other worker until TCP gave up (hours).
   */
  service?: boolean;
  /**
   * Bounds every statement (server side) and every wait for a connection or an answer (client
   * side), for readers that must give up rather than hang, such as a metrics scrape.
   */
  timeoutMs?: number;
  /**
   * Keeps every connection once opened, for a server that answers people. PostgreSQL caches plans
   * and catalog entries per session. pg's default closes a connection after 10 s idle, so the
   * first request after a quiet spell paid for all of them again: 40-100 ms for one
   * what-happened, against 3-10 ms on a warm connection.
   */
  keepConnections?: boolean;
}

/** Fails a connection attempt that gets no answer (a cut network) instead of waiting for ever. */
const CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_QUERY_TIMEOUT_MS = 30_000;

/** Session settings a service's connections ask for: all are settable by an unprivileged login. */
function serviceSessionOptions(queryTimeoutMs: number): string {
  return [
    `idle_in_transaction_session_timeout=${queryTimeoutMs}`,
    `tcp_user_timeout=${queryTimeoutMs}`,
    'tcp_keepalives_idle=10',
    'tcp_keepalives_interval=5',
    'tcp_keepalives_count=3',
  ]
    .map((setting) => `-c ${setting}`)
    .join(' ');
}

export function queryTimeoutFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.WRIT_DB_QUERY_TIMEOUT_MS;
  if (raw === undefined || raw === '') return DEFAULT_QUERY_TIMEOUT_MS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1_000)
    throw new WritError(
      'CONFIG',
      `WRIT_DB_QUERY_TIMEOUT_MS=${raw} is not a whole number of milliseconds of at least 1000`,
      'Unset it for the default (30000), or give e.g. 60000.',
    );
  return value;
}

/**
 * A pool whose idle-connection errors (a restarted server, a terminated backend) are logged
 * rather than crashing the process; the next checkout simply gets a fresh connection.
 */
export function createPool(databaseUrl: string, options: PoolOptions = {}): pg.Pool {
  const queryTimeoutMs = options.service ? queryTimeoutFrom(process.env) : undefined;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    ...(options.keepConnections ? { min: options.max ?? 10 } : {}),
    application_name: options.applicationName ?? 'writ',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs, options: serviceSessionOptions(queryTimeoutMs) } : {}),
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
  return keepConnectionsOnRefusal(pool);
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
