import type pg from 'pg';
import { ConnectorInputError } from '../types.js';
import type { TableInfo } from './table.js';
import { describeTable, reservedSchema, tableMatcher } from './table.js';
import { parseTarget, tableName } from './target.js';

// Executions are remembered in the user's database, in the same transaction as the change, so a
// retried execute with the same key returns the first result instead of writing again. This is
// the one place the connector touches a writ_* schema, through SQL of its own, never a target.
const SETUP = `
  CREATE SCHEMA IF NOT EXISTS writ_connector;
  CREATE TABLE IF NOT EXISTS writ_connector.executions (
    idempotency_key text PRIMARY KEY,
    target text NOT NULL,
    action text NOT NULL,
    after jsonb,
    executed_at timestamptz NOT NULL DEFAULT now()
  )`;

// The catalog says whether this is a ledger's (or an anchor's) database however the URL spells
// host, port or name. writ_connector is this connector's own bookkeeping, in any database it writes.
const HOLDS_LEDGER = `SELECT min(nspname::text) AS schema FROM pg_namespace WHERE lower(nspname) = 'writ' OR (lower(nspname) LIKE 'writ\\_%' AND nspname <> 'writ_connector')`;

export interface DatabaseOptions {
  pool: pg.Pool;
  allowedTables?: string[];
  allowLedgerDatabase?: boolean;
}

/** The user's database as the connector's steps reach it. */
export interface RowDatabase {
  pool: pg.Pool;
  /** Creates the table of remembered executions, once per connector (again after a failure). */
  setup(): Promise<unknown>;
  /**
   * The table a target names, as the catalog holds it, after every refusal. `client` (a write's
   * transaction) reads the catalog afresh: a table replaced by a view since it was cached is not
   * written through.
   */
  tableFor(target: string, client?: pg.PoolClient): Promise<{ info: TableInfo; key: string }>;
}

/** A promise made once and kept, unless it fails: then the next call tries again. */
function onceUntilFailure<T>(make: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= make().catch((error) => {
      pending = undefined;
      throw error;
    }));
}

async function refuseLedgerDatabase(options: DatabaseOptions): Promise<void> {
  if (options.allowLedgerDatabase) return;
  const schema = (await options.pool.query<{ schema: string | null }>(HOLDS_LEDGER)).rows[0]?.schema;
  if (schema) {
    throw new ConnectorInputError(
      `this connector's database holds a Writ ledger or its anchors (schema ${schema}), and it writes there only when configured to on purpose: ` +
        `point it at your own database (WRIT_POSTGRES_CONNECTOR_URL), or set allowLedgerDatabase (WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE=true); nothing was read or written`,
    );
  }
}

export function openDatabase(options: DatabaseOptions): RowDatabase {
  const { pool } = options;
  const allowed = options.allowedTables ? tableMatcher(options.allowedTables) : null;
  const setup = onceUntilFailure(() => pool.query(SETUP));
  const notLedger = onceUntilFailure(() => refuseLedgerDatabase(options));
  const tables = new Map<string, Promise<TableInfo>>();

  const tableFor = async (target: string, client?: pg.PoolClient) => {
    const row = parseTarget(target);
    const name = tableName(row);
    const reserved = reservedSchema(row.schema);
    if (reserved) throw new ConnectorInputError(`table ${name} is refused: ${reserved}`);
    if (allowed && !allowed(row)) {
      throw new ConnectorInputError(
        `table ${name} is not among the tables this connector may write (${options.allowedTables!.join(', ')})`,
      );
    }
    await notLedger();
    if (client) return { info: await describeTable(client, row), key: row.key };
    let info = tables.get(name);
    if (!info) {
      info = describeTable(pool, row);
      tables.set(name, info);
      info.catch(() => tables.delete(name));
    }
    return { info: await info, key: row.key };
  };

  return { pool, setup, tableFor };
}
