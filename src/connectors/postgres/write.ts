import pg from 'pg';
import type { Json, JsonObject } from '../../model/json.js';
import type { ActionCall, Execution, Snapshot } from '../types.js';
import { ConnectorInputError } from '../types.js';
import { checkOut } from '../../db/check-out.js';
import type { RowChange } from './actions.js';
import type { RowDatabase } from './database.js';
import { readRow, versionOf } from './read.js';
import type { TableInfo } from './table.js';

/** Runs `change` once per idempotency key, in one transaction with the record of having run it. */
export async function once(
  db: RowDatabase,
  idempotencyKey: string,
  target: string,
  action: string,
  change: (client: pg.PoolClient) => Promise<Json>,
): Promise<{ after: Json; repeated: boolean }> {
  await db.setup();
  const { client, release } = await checkOut(db.pool);
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
    release();
  }
}

const columnsList = (columns: string[]) => columns.map((column) => pg.escapeIdentifier(column)).join(', ');

/** The row as written, or null when a trigger in the target suppressed the write. */
export async function writeRow(
  client: pg.PoolClient,
  info: TableInfo,
  key: string,
  row: JsonObject,
): Promise<JsonObject | null> {
  const columns = Object.keys(row).filter((column) => info.columns.has(column));
  const pk = pg.escapeIdentifier(info.primaryKey);
  const result = await client.query<{ row: JsonObject }>(
    `INSERT INTO ${info.sql} AS t (${columnsList(columns)})
       SELECT ${columnsList(columns)} FROM jsonb_populate_record(NULL::${info.sql}, $1::jsonb)
       ON CONFLICT (${pk}) DO UPDATE SET (${columnsList(columns)}) = ROW(${columns.map((c) => `EXCLUDED.${pg.escapeIdentifier(c)}`).join(', ')})
       RETURNING to_jsonb(t) AS row`,
    [JSON.stringify({ ...row, [info.primaryKey]: row[info.primaryKey] ?? key })],
  );
  return result.rows[0]?.row ?? null;
}

export async function deleteRow(client: pg.PoolClient, info: TableInfo, key: string): Promise<void> {
  await client.query(
    `DELETE FROM ${info.sql} WHERE ${pg.escapeIdentifier(info.primaryKey)} = $1::${info.primaryKeyType}`,
    [key],
  );
}

/** Writes `row`, or deletes the row when it is null; what the table holds afterwards. */
export async function putRow(
  client: pg.PoolClient,
  info: TableInfo,
  key: string,
  row: JsonObject | null,
): Promise<JsonObject | null> {
  if (row === null) {
    await deleteRow(client, info, key);
    return null;
  }
  return writeRow(client, info, key, row);
}

export async function execute<P>(
  db: RowDatabase,
  change: RowChange<P>,
  call: ActionCall<P>,
  { idempotencyKey, before }: { idempotencyKey: string; before: Snapshot },
): Promise<Execution> {
  await db.tableFor(call.target);
  const { after, repeated } = await once(db, idempotencyKey, call.target, change.name, async (client) => {
    const { info, key } = await db.tableFor(call.target, client);
    const current = await readRow(client, info, key, true);
    // Locked now: if the row is not what Writ read (and the approval named), another writer got
    // in between, and writing would overwrite them under an approval that never saw their change.
    if (versionOf(current) !== before.version) {
      throw new ConnectorInputError(
        `${call.target} changed since it was read (version ${before.version}, now ${versionOf(current)}); nothing was written`,
      );
    }
    const problems = change.check(call.params, current, info, key);
    if (problems.length) throw new ConnectorInputError(problems.join('; '));
    return putRow(client, info, key, change.intended(call.params, current, key, info));
  });
  return { after, detail: { repeated } };
}
