import pg from 'pg';
import { canonicalDigest } from '../../verify/hash.js';
import type { Json, JsonObject } from '../../model/json.js';
import type { ActionCall, ResolvedTarget, Snapshot } from '../types.js';
import { ConnectorInputError } from '../types.js';
import type { RowDatabase } from './database.js';
import type { TableInfo } from './table.js';
import { parseTarget, tableName } from './target.js';

export function versionOf(state: Json): string {
  return state === null ? 'absent' : canonicalDigest(state);
}

export function identity(call: ActionCall<unknown>): string {
  const row = parseTarget(call.target);
  return `postgres:${tableName(row)}/${row.key}`;
}

export async function readRow(
  client: pg.Pool | pg.PoolClient,
  info: TableInfo,
  key: string,
  lock = false,
): Promise<JsonObject | null> {
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
}

export async function snapshotOf(db: RowDatabase, target: string): Promise<Snapshot> {
  const { info, key } = await db.tableFor(target);
  const state = await readRow(db.pool, info, key);
  return { version: versionOf(state), state };
}

/** The key as the table reads it back (`042` and ` 42` are row 42 of an integer key): one spelling per row. */
export async function resolve(db: RowDatabase, call: ActionCall<unknown>): Promise<ResolvedTarget> {
  const { info, key } = await db.tableFor(call.target);
  let canonical: string;
  try {
    // The stored key of the row this key reaches, when there is one: under numeric, citext or a
    // case-insensitive collation several spellings reach one row, and all must read as its key.
    const pk = pg.escapeIdentifier(info.primaryKey);
    canonical = (
      await db.pool.query<{ key: string }>(
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
}
