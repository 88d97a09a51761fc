import { createHash } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import { canonicalText } from '../../ledger/canonical.js';
import type { RollbackContract } from '../../model/contract.js';
import type { Effect } from '../../model/policy.js';
import type { Json, JsonObject } from '../../model/json.js';
import type { ActionCall, Connector, ConnectorAction, ResolvedTarget, Snapshot } from '../types.js';
import { ConnectorInputError } from '../types.js';
import type { TableInfo } from './table.js';
import { describeTable, parseTarget, unknownColumns } from './table.js';

export interface PostgresConnectorOptions {
  /** The user's database (not necessarily the ledger's). */
  pool: pg.Pool;
  name?: string;
  /** Globs of `schema.table` Writ may write to; everything when absent. */
  allowedTables?: string[];
  rollbackWindowMs?: number;
  /** End the pool when the connector closes (when the connector was given a pool of its own). */
  closePool?: boolean;
}

const DEFAULT_WINDOW_MS = 7 * 24 * 3600 * 1000;

// Executions are remembered in the user's database, in the same transaction as the change, so a
// retried execute with the same key returns the first result instead of writing again.
const SETUP = `
  CREATE SCHEMA IF NOT EXISTS writ_connector;
  CREATE TABLE IF NOT EXISTS writ_connector.executions (
    idempotency_key text PRIMARY KEY,
    target text NOT NULL,
    action text NOT NULL,
    after jsonb,
    executed_at timestamptz NOT NULL DEFAULT now()
  )`;

const values = z.record(z.string().min(1), z.json()).refine((v) => Object.keys(v).length > 0, 'must set at least one column');

export function versionOf(state: Json): string {
  return state === null ? 'absent' : `sha256:${createHash('sha256').update(canonicalText(state)).digest('hex')}`;
}

export function postgresConnector(options: PostgresConnectorOptions): Connector {
  const { pool } = options;
  const window = options.rollbackWindowMs ?? DEFAULT_WINDOW_MS;
  let ready: Promise<unknown> | undefined;
  const setup = () => (ready ??= pool.query(SETUP).catch((error) => { ready = undefined; throw error; }));
  const tables = new Map<string, Promise<TableInfo>>();

  const tableFor = async (target: string) => {
    const { table, key } = parseTarget(target);
    if (options.allowedTables && !options.allowedTables.some((pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(table))) {
      throw new ConnectorInputError(`table ${table} is not among the tables this connector may write (${options.allowedTables.join(', ')})`);
    }
    let info = tables.get(table);
    if (!info) {
      info = describeTable(pool, table);
      tables.set(table, info);
      info.catch(() => tables.delete(table));
    }
    return { info: await info, key };
  };

  const readRow = async (client: pg.Pool | pg.PoolClient, info: TableInfo, key: string, lock = false): Promise<JsonObject | null> => {
    const result = await client.query<{ row: JsonObject }>(
      `SELECT to_jsonb(t) AS row FROM ${info.sql} t WHERE ${pg.escapeIdentifier(info.primaryKey)} = $1::${info.primaryKeyType}${lock ? ' FOR UPDATE' : ''}`, [key]);
    return result.rows[0]?.row ?? null;
  };

  const snapshotOf = async (target: string): Promise<Snapshot> => {
    const { info, key } = await tableFor(target);
    const state = await readRow(pool, info, key);
    return { version: versionOf(state), state };
  };

  /** Runs `change` once per idempotency key, in one transaction with the record of having run it. */
  const once = async (idempotencyKey: string, target: string, action: string, change: (client: pg.PoolClient) => Promise<Json>): Promise<{ after: Json; repeated: boolean }> => {
    await setup();
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const earlier = await client.query<{ after: Json }>('SELECT after FROM writ_connector.executions WHERE idempotency_key = $1', [idempotencyKey]);
      if (earlier.rows[0]) {
        await client.query('COMMIT');
        return { after: earlier.rows[0].after, repeated: true };
      }
      const after = await change(client);
      await client.query('INSERT INTO writ_connector.executions (idempotency_key, target, action, after) VALUES ($1, $2, $3, $4)', [idempotencyKey, target, action, JSON.stringify(after)]);
      await client.query('COMMIT');
      return { after, repeated: false };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };

  const columnsList = (info: TableInfo, columns: string[]) => columns.map((column) => pg.escapeIdentifier(column)).join(', ');

  const writeRow = async (client: pg.PoolClient, info: TableInfo, key: string, row: JsonObject): Promise<JsonObject> => {
    const columns = Object.keys(row).filter((column) => info.columns.has(column));
    const pk = pg.escapeIdentifier(info.primaryKey);
    const result = await client.query<{ row: JsonObject }>(
      `INSERT INTO ${info.sql} AS t (${columnsList(info, columns)})
       SELECT ${columnsList(info, columns)} FROM jsonb_populate_record(NULL::${info.sql}, $1::jsonb)
       ON CONFLICT (${pk}) DO UPDATE SET (${columnsList(info, columns)}) = ROW(${columns.map((c) => `EXCLUDED.${pg.escapeIdentifier(c)}`).join(', ')})
       RETURNING to_jsonb(t) AS row`,
      [JSON.stringify({ ...row, [info.primaryKey]: row[info.primaryKey] ?? key })]);
    return result.rows[0]!.row;
  };

  const deleteRow = async (client: pg.PoolClient, info: TableInfo, key: string): Promise<void> => {
    await client.query(`DELETE FROM ${info.sql} WHERE ${pg.escapeIdentifier(info.primaryKey)} = $1::${info.primaryKeyType}`, [key]);
  };

  const contract: RollbackContract = {
    supportsDryRun: true,
    sideEffects: 'none-on-dry-run',
    canRollback: true,
    method: 'snapshot-restore',
    windowMs: window,
    limitations: 'restores the whole row as it was before the write, overwriting later changes by others; effects of triggers and cascades in your schema are not undone; single-column primary keys only',
  };

  const identity = (call: ActionCall<unknown>) => {
    const { table, key } = parseTarget(call.target);
    return `postgres:${table}/${key}`;
  };

  /** The key as the table reads it back (`042` and ` 42` are row 42 of an integer key): one spelling per row. */
  const resolve = async (call: ActionCall<unknown>): Promise<ResolvedTarget> => {
    const { info, key } = await tableFor(call.target);
    let canonical: string;
    try {
      // The stored key of the row this key reaches, when there is one: under numeric, citext or a
      // case-insensitive collation several spellings reach one row, and all must read as its key.
      const pk = pg.escapeIdentifier(info.primaryKey);
      canonical = (await pool.query<{ key: string }>(
        `SELECT COALESCE((SELECT t.${pk}::text FROM ${info.sql} t WHERE t.${pk} = $1::${info.primaryKeyType}), ($1::${info.primaryKeyType})::text) AS key`, [key])).rows[0]!.key;
    } catch (error) {
      // Class 22, data exception: the key cannot be a value of the column's type.
      if (String((error as { code?: unknown }).code ?? '').startsWith('22')) throw new ConnectorInputError(`key ${JSON.stringify(key)} is not a valid ${info.primaryKeyType} for ${info.name}.${info.primaryKey}: ${(error as Error).message}`);
      throw error;
    }
    const target = `${parseTarget(call.target).table}/${canonical}`;
    return { target, identity: `postgres:${target}` };
  };

  /** What the row should look like after the action, from the state before it. */
  type Intended = (before: JsonObject | null, key: string, info: TableInfo) => JsonObject | null;

  const action = <P extends object>(name: string, params: z.ZodType<P>, intended: (params: P) => Intended, check: (params: P, before: JsonObject | null, info: TableInfo) => string[],
    effect: (before: Snapshot) => { effect: Effect; action: string }): ConnectorAction<P> => ({
    params,
    contract,
    identity,
    resolve,
    effect: (_call, before) => effect(before),
    async validate(call) {
      const { info, key } = await tableFor(call.target);
      const before = await readRow(pool, info, key);
      return check(call.params, before, info);
    },
    snapshot: (call) => snapshotOf(call.target),
    async preview(call, before) {
      const { info, key } = await tableFor(call.target);
      const after = intended(call.params)(before.state as JsonObject | null, key, info);
      return { before: before.state, after, summary: `would ${name} ${info.name} row ${key}` };
    },
    async execute(call, { idempotencyKey, before }) {
      const { info, key } = await tableFor(call.target);
      const { after, repeated } = await once(idempotencyKey, call.target, name, async (client) => {
        const current = await readRow(client, info, key, true);
        // Locked now: if the row is not what Writ read (and the approval named), another writer got
        // in between, and writing would overwrite them under an approval that never saw their change.
        if (versionOf(current) !== before.version) {
          throw new ConnectorInputError(`${call.target} changed since it was read (version ${before.version}, now ${versionOf(current)}); nothing was written`);
        }
        const problems = check(call.params, current, info);
        if (problems.length) throw new ConnectorInputError(problems.join('; '));
        const next = intended(call.params)(current, key, info);
        if (next === null) {
          await deleteRow(client, info, key);
          return null;
        }
        return writeRow(client, info, key, next);
      });
      return { after, detail: { repeated } };
    },
    async verify(call, { execution }) {
      const { info, key } = await tableFor(call.target);
      const observed = await readRow(pool, info, key);
      const expected = execution.after as JsonObject | null;
      if (expected === null) {
        return observed === null ? { ok: true, observed, expected } : { ok: false, observed, expected, reason: `row ${key} still exists after delete` };
      }
      if (observed === null) return { ok: false, observed, expected, reason: `row ${key} is missing` };
      const written = Object.keys(intended(call.params)(expected, key, info) ?? {});
      const drifted = written.filter((column) => canonicalText(observed[column] ?? null) !== canonicalText(expected[column] ?? null));
      return drifted.length
        ? { ok: false, observed, expected, reason: `column(s) ${drifted.join(', ')} differ from what was written` }
        : { ok: true, observed, expected };
    },
    async rollback(call, { idempotencyKey, before }) {
      const { info, key } = await tableFor(call.target);
      const { after } = await once(`${idempotencyKey}/rollback`, call.target, `${name}:rollback`, async (client) => {
        await readRow(client, info, key, true);
        if (before.state === null) {
          await deleteRow(client, info, key);
          return null;
        }
        return writeRow(client, info, key, before.state as JsonObject);
      });
      return { restored: after };
    },
  });

  const unknown = (info: TableInfo, row: Record<string, unknown>) => {
    const bad = unknownColumns(info, row);
    return bad.length ? [`params: table ${info.name} has no column(s) ${bad.join(', ')}`] : [];
  };

  return {
    ...(options.closePool ? { close: () => pool.end() } : {}),
    name: options.name ?? 'postgres',
    description: 'rows of a PostgreSQL table, addressed by primary key',
    actions: {
      insert: action('insert', z.strictObject({ values }),
        (p) => (_before, key, info) => ({ ...p.values, [info.primaryKey]: p.values[info.primaryKey] ?? key }),
        (p, before, info) => [...unknown(info, p.values), ...(before ? [`row already exists in ${info.name}; use update or upsert`] : [])],
        () => ({ effect: 'create', action: 'insert' })),
      update: action('update', z.strictObject({ set: values }),
        (p) => (before) => ({ ...(before ?? {}), ...p.set }),
        (p, before, info) => [...unknown(info, p.set), ...(before ? [] : [`no row with that key in ${info.name}`]),
          ...(info.primaryKey in p.set ? [`params.set: the primary key ${info.primaryKey} cannot be changed`] : [])],
        () => ({ effect: 'modify', action: 'update' })),
      upsert: action('upsert', z.strictObject({ values }),
        (p) => (before, key, info) => ({ ...(before ?? {}), ...p.values, [info.primaryKey]: before?.[info.primaryKey] ?? p.values[info.primaryKey] ?? key }),
        (p, _before, info) => unknown(info, p.values),
        // An upsert is what it does: an update of a row that is there, an insert of one that is not.
        (before) => (before.state === null ? { effect: 'create', action: 'insert' } : { effect: 'modify', action: 'update' })),
      delete: action('delete', z.strictObject({}),
        () => () => null,
        (_p, before, info) => (before ? [] : [`no row with that key in ${info.name}`]),
        () => ({ effect: 'delete', action: 'delete' })),
    },
  };
}

