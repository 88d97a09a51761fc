import { createHash } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import { canonicalText } from '../../verify/canonical.js';
import type { RollbackContract } from '../../model/contract.js';
import type { Effect } from '../../model/policy.js';
import type { Json, JsonObject } from '../../model/json.js';
import type { ActionCall, Connector, ConnectorAction, ResolvedTarget, Snapshot } from '../types.js';
import { ConnectorInputError } from '../types.js';
import type { TableInfo } from './table.js';
import { describeTable, reservedSchema, tableMatcher, unknownColumns } from './table.js';
import { parseTarget, tableName } from './target.js';

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

const values = z
  .record(z.string().min(1), z.json())
  .refine((v) => Object.keys(v).length > 0, 'must set at least one column');

export function versionOf(state: Json): string {
  return state === null ? 'absent' : `sha256:${createHash('sha256').update(canonicalText(state)).digest('hex')}`;
}

const clip = (value: Json | undefined) => {
  const text = canonicalText(value ?? null);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
};

export function postgresConnector(options: PostgresConnectorOptions): Connector {
  const { pool } = options;
  const window = options.rollbackWindowMs ?? DEFAULT_WINDOW_MS;
  const allowed = options.allowedTables ? tableMatcher(options.allowedTables) : null;
  let ready: Promise<unknown> | undefined;
  const setup = () =>
    (ready ??= pool.query(SETUP).catch((error) => {
      ready = undefined;
      throw error;
    }));
  let ledgerCheck: Promise<void> | undefined;
  const notLedger = () =>
    (ledgerCheck ??= (async () => {
      if (options.allowLedgerDatabase) return;
      const schema = (await pool.query<{ schema: string | null }>(HOLDS_LEDGER)).rows[0]?.schema;
      if (schema) {
        throw new ConnectorInputError(
          `this connector's database holds a Writ ledger or its anchors (schema ${schema}), and it writes there only when configured to on purpose: ` +
            `point it at your own database (WRIT_POSTGRES_CONNECTOR_URL), or set allowLedgerDatabase (WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE=true); nothing was read or written`,
        );
      }
    })().catch((error) => {
      ledgerCheck = undefined;
      throw error;
    }));
  const tables = new Map<string, Promise<TableInfo>>();

  /**
   * The table a target names, as the catalog holds it, after every refusal. `client` (a write's
   * transaction) reads the catalog afresh: a table replaced by a view since it was cached is not
   * written through.
   */
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

  const readRow = async (
    client: pg.Pool | pg.PoolClient,
    info: TableInfo,
    key: string,
    lock = false,
  ): Promise<JsonObject | null> => {
    try {
      const result = await client.query<{ row: JsonObject }>(
        `SELECT to_jsonb(t) AS row FROM ${info.sql} t WHERE ${pg.escapeIdentifier(info.primaryKey)} = $1::${info.primaryKeyType}${lock ? ' FOR UPDATE' : ''}`,
        [key],
      );
      return result.rows[0]?.row ?? null;
    } catch (error) {
      // Class 22, data exception: the key can never be a value of the column's type, so no retry can help.
      if (error instanceof pg.DatabaseError && error.code?.startsWith('22')) {
        throw new ConnectorInputError(
          `key ${JSON.stringify(key)} is not a valid ${info.primaryKeyType} for ${info.name}.${info.primaryKey}: ${error.message}`,
        );
      }
      throw error;
    }
  };

  const snapshotOf = async (target: string): Promise<Snapshot> => {
    const { info, key } = await tableFor(target);
    const state = await readRow(pool, info, key);
    return { version: versionOf(state), state };
  };

  /** Runs `change` once per idempotency key, in one transaction with the record of having run it. */
  const once = async (
    idempotencyKey: string,
    target: string,
    action: string,
    change: (client: pg.PoolClient) => Promise<Json>,
  ): Promise<{ after: Json; repeated: boolean }> => {
    await setup();
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const earlier = await client.query<{ after: Json }>(
        'SELECT after FROM writ_connector.executions WHERE idempotency_key = $1',
        [idempotencyKey],
      );
      if (earlier.rows[0]) {
        await client.query('COMMIT');
        return { after: earlier.rows[0].after, repeated: true };
      }
      const after = await change(client);
      await client.query(
        'INSERT INTO writ_connector.executions (idempotency_key, target, action, after) VALUES ($1, $2, $3, $4)',
        [idempotencyKey, target, action, JSON.stringify(after)],
      );
      await client.query('COMMIT');
      return { after, repeated: false };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };

  const columnsList = (info: TableInfo, columns: string[]) =>
    columns.map((column) => pg.escapeIdentifier(column)).join(', ');

  /** The row as written, or null when a trigger in the target suppressed the write. */
  const writeRow = async (
    client: pg.PoolClient,
    info: TableInfo,
    key: string,
    row: JsonObject,
  ): Promise<JsonObject | null> => {
    const columns = Object.keys(row).filter((column) => info.columns.has(column));
    const pk = pg.escapeIdentifier(info.primaryKey);
    const result = await client.query<{ row: JsonObject }>(
      `INSERT INTO ${info.sql} AS t (${columnsList(info, columns)})
       SELECT ${columnsList(info, columns)} FROM jsonb_populate_record(NULL::${info.sql}, $1::jsonb)
       ON CONFLICT (${pk}) DO UPDATE SET (${columnsList(info, columns)}) = ROW(${columns.map((c) => `EXCLUDED.${pg.escapeIdentifier(c)}`).join(', ')})
       RETURNING to_jsonb(t) AS row`,
      [JSON.stringify({ ...row, [info.primaryKey]: row[info.primaryKey] ?? key })],
    );
    return result.rows[0]?.row ?? null;
  };

  const deleteRow = async (client: pg.PoolClient, info: TableInfo, key: string): Promise<void> => {
    await client.query(
      `DELETE FROM ${info.sql} WHERE ${pg.escapeIdentifier(info.primaryKey)} = $1::${info.primaryKeyType}`,
      [key],
    );
  };

  const contract: RollbackContract = {
    supportsDryRun: true,
    sideEffects: 'none-on-dry-run',
    canRollback: true,
    method: 'snapshot-restore',
    windowMs: window,
    limitations:
      'restores the whole row as it was before the write, overwriting later changes by others; effects of triggers and cascades in your schema are not undone; single-column primary keys only',
  };

  const identity = (call: ActionCall<unknown>) => {
    const row = parseTarget(call.target);
    return `postgres:${tableName(row)}/${row.key}`;
  };

  /** The key as the table reads it back (`042` and ` 42` are row 42 of an integer key): one spelling per row. */
  const resolve = async (call: ActionCall<unknown>): Promise<ResolvedTarget> => {
    const { info, key } = await tableFor(call.target);
    let canonical: string;
    try {
      // The stored key of the row this key reaches, when there is one: under numeric, citext or a
      // case-insensitive collation several spellings reach one row, and all must read as its key.
      const pk = pg.escapeIdentifier(info.primaryKey);
      canonical = (
        await pool.query<{ key: string }>(
          `SELECT COALESCE((SELECT t.${pk}::text FROM ${info.sql} t WHERE t.${pk} = $1::${info.primaryKeyType}), ($1::${info.primaryKeyType})::text) AS key`,
          [key],
        )
      ).rows[0]!.key;
    } catch (error) {
      // Class 22, data exception: the key cannot be a value of the column's type.
      if (String((error as { code?: unknown }).code ?? '').startsWith('22'))
        throw new ConnectorInputError(
          `key ${JSON.stringify(key)} is not a valid ${info.primaryKeyType} for ${info.name}.${info.primaryKey}: ${(error as Error).message}`,
        );
      throw error;
    }
    const target = `${tableName(parseTarget(call.target))}/${canonical}`;
    return { target, identity: `postgres:${target}` };
  };

  /**
   * Reads the row back and checks each requested column against the requested value cast
   * through the column's own type (`9` is `9.00` in a numeric(10,2), `'CHECKED'` is not
   * `'checked'`). What the write returned is never the reference: a trigger that rewrote the
   * value returned the rewritten one too.
   */
  const holds = async (
    info: TableInfo,
    key: string,
    requested: JsonObject,
  ): Promise<{ observed: JsonObject | null; expected: JsonObject; differing: string[] }> => {
    const columns = Object.keys(requested).filter((column) => info.columns.has(column));
    const result = await pool.query<{ observed: JsonObject; requested: JsonObject; differing: string[] }>(
      `SELECT to_jsonb(t) AS observed, to_jsonb(r) AS requested,
              ARRAY(SELECT c FROM unnest($3::text[]) AS c WHERE (to_jsonb(r) -> c) IS DISTINCT FROM (to_jsonb(t) -> c) ORDER BY c) AS differing
         FROM ${info.sql} t, jsonb_populate_record(NULL::${info.sql}, $2::jsonb) r
        WHERE t.${pg.escapeIdentifier(info.primaryKey)} = $1::${info.primaryKeyType}`,
      [key, JSON.stringify(requested), columns],
    );
    const row = result.rows[0];
    const cast = row?.requested ?? requested;
    const expected = Object.fromEntries(columns.map((column) => [column, cast[column] ?? null]));
    return { observed: row?.observed ?? null, expected, differing: row?.differing ?? [] };
  };

  /**
   * An action: `requested` is what the call asks the row to hold afterwards (null: no row),
   * `intended` the whole row it should become from the state before it.
   */
  type Intended = (before: JsonObject | null, key: string, info: TableInfo) => JsonObject | null;
  type Requested = (key: string, info: TableInfo) => JsonObject | null;

  const action = <P extends object>(
    name: string,
    params: z.ZodType<P>,
    intended: (params: P) => Intended,
    requested: (params: P) => Requested,
    check: (params: P, before: JsonObject | null, info: TableInfo, key: string) => string[],
    effect: (before: Snapshot) => { effect: Effect; action: string },
  ): ConnectorAction<P> => ({
    params,
    contract,
    identity,
    resolve,
    effect: (_call, before) => effect(before),
    async validate(call) {
      const { info, key } = await tableFor(call.target);
      const before = await readRow(pool, info, key);
      return check(call.params, before, info, key);
    },
    snapshot: (call) => snapshotOf(call.target),
    async preview(call, before) {
      const { info, key } = await tableFor(call.target);
      const after = intended(call.params)(before.state as JsonObject | null, key, info);
      return { before: before.state, after, summary: `would ${name} ${info.name} row ${key}` };
    },
    async execute(call, { idempotencyKey, before }) {
      await tableFor(call.target);
      const { after, repeated } = await once(idempotencyKey, call.target, name, async (client) => {
        const { info, key } = await tableFor(call.target, client);
        const current = await readRow(client, info, key, true);
        // Locked now: if the row is not what Writ read (and the approval named), another writer got
        // in between, and writing would overwrite them under an approval that never saw their change.
        if (versionOf(current) !== before.version) {
          throw new ConnectorInputError(
            `${call.target} changed since it was read (version ${before.version}, now ${versionOf(current)}); nothing was written`,
          );
        }
        const problems = check(call.params, current, info, key);
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
    async verify(call) {
      const { info, key } = await tableFor(call.target);
      const asked = requested(call.params)(key, info);
      if (asked === null) {
        const observed = await readRow(pool, info, key);
        return observed === null
          ? { ok: true, observed, expected: null }
          : { ok: false, observed, expected: null, reason: `row ${key} still exists after delete` };
      }
      let verdict: Awaited<ReturnType<typeof holds>>;
      try {
        verdict = await holds(info, key, asked);
      } catch (error) {
        // Only a value the column cannot take gets here, and then it cannot hold what was asked.
        if (!(error instanceof pg.DatabaseError) || !error.code?.startsWith('22')) throw error;
        return {
          ok: false,
          observed: await readRow(pool, info, key),
          expected: asked,
          reason: `what was asked does not fit the columns of ${info.name}: ${error.message}`,
        };
      }
      const { observed, expected, differing } = verdict;
      if (observed === null) return { ok: false, observed, expected, reason: `row ${key} is missing` };
      if (!differing.length) return { ok: true, observed, expected };
      const detail = differing
        .map((column) => `${column} asked ${clip(expected[column])}, holds ${clip(observed[column])}`)
        .join('; ');
      return {
        ok: false,
        observed,
        expected,
        reason: `row ${key} of ${info.name} does not hold what was asked: ${detail}`,
      };
    },
    async rollback(call, { idempotencyKey, before }) {
      await tableFor(call.target);
      const { after } = await once(`${idempotencyKey}/rollback`, call.target, `${name}:rollback`, async (client) => {
        const { info, key } = await tableFor(call.target, client);
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

  // The target's key is what policy matched and the ledger names: values may repeat it, not change it.
  const sameKey = (field: string, row: JsonObject, info: TableInfo, key: string) =>
    info.primaryKey in row && String(row[info.primaryKey]) !== key
      ? [
          `params.${field}.${info.primaryKey}: ${clip(row[info.primaryKey])} is not the target's key ${key}; leave it out or make it the same`,
        ]
      : [];

  return {
    ...(options.closePool ? { close: () => pool.end() } : {}),
    name: options.name ?? 'postgres',
    description: 'rows of a PostgreSQL table, addressed by primary key',
    actions: {
      insert: action(
        'insert',
        z.strictObject({ values }),
        (p) => (_before, key, info) => ({ ...p.values, [info.primaryKey]: p.values[info.primaryKey] ?? key }),
        (p) => (key, info) => ({ ...p.values, [info.primaryKey]: key }),
        (p, before, info, key) => [
          ...unknown(info, p.values),
          ...sameKey('values', p.values, info, key),
          ...(before ? [`row already exists in ${info.name}; use update or upsert`] : []),
        ],
        () => ({ effect: 'create', action: 'insert' }),
      ),
      update: action(
        'update',
        z.strictObject({ set: values }),
        (p) => (before) => ({ ...(before ?? {}), ...p.set }),
        (p) => () => ({ ...p.set }),
        (p, before, info) => [
          ...unknown(info, p.set),
          ...(before ? [] : [`no row with that key in ${info.name}`]),
          ...(info.primaryKey in p.set ? [`params.set: the primary key ${info.primaryKey} cannot be changed`] : []),
        ],
        () => ({ effect: 'modify', action: 'update' }),
      ),
      upsert: action(
        'upsert',
        z.strictObject({ values }),
        (p) => (before, key, info) => ({
          ...(before ?? {}),
          ...p.values,
          [info.primaryKey]: before?.[info.primaryKey] ?? p.values[info.primaryKey] ?? key,
        }),
        (p) => (key, info) => ({ ...p.values, [info.primaryKey]: key }),
        (p, _before, info, key) => [...unknown(info, p.values), ...sameKey('values', p.values, info, key)],
        // An upsert is what it does: an update of a row that is there, an insert of one that is not.
        (before) =>
          before.state === null ? { effect: 'create', action: 'insert' } : { effect: 'modify', action: 'update' },
      ),
      delete: action(
        'delete',
        z.strictObject({}),
        () => () => null,
        () => () => null,
        (_p, before, info) => (before ? [] : [`no row with that key in ${info.name}`]),
        () => ({ effect: 'delete', action: 'delete' }),
      ),
    },
  };
}
