import type pg from 'pg';
import type { RollbackContract } from '../../model/contract.js';
import type { JsonObject } from '../../model/json.js';
import type { Connector, ConnectorAction } from '../types.js';
import type { RowChange } from './actions.js';
import { insert, remove, update, upsert } from './actions.js';
import { rollback } from './compensate.js';
import type { RowDatabase } from './database.js';
import { openDatabase } from './database.js';
import { identity, readRow, resolve, snapshotOf } from './read.js';
import { verify } from './verify.js';
import { execute } from './write.js';

export { versionOf } from './read.js';

export interface PostgresConnectorOptions {
  /** The user's database (not necessarily the ledger's). */
  pool: pg.Pool;
  name?: string;
  /**
   * Globs of `schema.table` Writ may write to (`public.accounts`, `crm.*`); every table outside
   * reserved schemas when absent.
   */
  allowedTables?: string[];
  /**
   * Write to a database that holds a Writ ledger (its `writ` schema). Off by default: a connector
   * pointed at the ledger's database by accident is refused rather than trusted. Writ's own
   * schemas stay out of reach either way.
   */
  allowLedgerDatabase?: boolean;
  rollbackWindowMs?: number;
  /** End the pool when the connector closes (when the connector was given a pool of its own). */
  closePool?: boolean;
}

const DEFAULT_WINDOW_MS = 7 * 24 * 3600 * 1000;

const contractFor = (windowMs: number): RollbackContract => ({
  supportsDryRun: true,
  sideEffects: 'none-on-dry-run',
  canRollback: true,
  method: 'snapshot-restore',
  windowMs,
  limitations:
    'restores the whole row as it was before the write, overwriting later changes by others; effects of triggers and cascades in your schema are not undone; single-column primary keys only',
});

/** One action: the connector's shared steps around what `change` asks of the row. */
function rowAction<P>(db: RowDatabase, contract: RollbackContract, change: RowChange<P>): ConnectorAction<P> {
  return {
    params: change.params,
    contract,
    identity,
    resolve: (call) => resolve(db, call),
    effect: (_call, before) => change.effect(before),
    async validate(call) {
      const { info, key } = await db.tableFor(call.target);
      const before = await readRow(db.pool, info, key);
      return change.check(call.params, before, info, key);
    },
    snapshot: (call) => snapshotOf(db, call.target),
    async preview(call, before) {
      const { info, key } = await db.tableFor(call.target);
      const after = change.intended(call.params, before.state as JsonObject | null, key, info);
      return { before: before.state, after, summary: `would ${change.name} ${info.name} row ${key}` };
    },
    execute: (call, context) => execute(db, change, call, context),
    verify: (call) => verify(db, change, call),
    rollback: (call, context) => rollback(db, change.name, call, context),
  };
}

export function postgresConnector(options: PostgresConnectorOptions): Connector {
  const db = openDatabase(options);
  const contract = contractFor(options.rollbackWindowMs ?? DEFAULT_WINDOW_MS);
  return {
    ...(options.closePool ? { close: () => options.pool.end() } : {}),
    name: options.name ?? 'postgres',
    description: 'rows of a PostgreSQL table, addressed by primary key',
    actions: {
      insert: rowAction(db, contract, insert),
      update: rowAction(db, contract, update),
      upsert: rowAction(db, contract, upsert),
      delete: rowAction(db, contract, remove),
    },
  };
}
