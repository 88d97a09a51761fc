import pg from 'pg';
import type { JsonObject } from '../../model/json.js';
import type { ActionCall, Verification } from '../types.js';
import type { RowChange } from './actions.js';
import { clip } from './actions.js';
import type { RowDatabase } from './database.js';
import { readRow } from './read.js';
import type { TableInfo } from './table.js';

interface Verdict {
  observed: JsonObject | null;
  expected: JsonObject;
  differing: string[];
}

/**
 * Reads the row back and checks each requested column against the requested value cast
 * through the column's own type (`9` is `9.00` in a numeric(10,2), `'CHECKED'` is not
 * `'checked'`). What the write returned is never the reference: a trigger that rewrote the
 * value returned the rewritten one too.
 */
async function holds(pool: pg.Pool, info: TableInfo, key: string, requested: JsonObject): Promise<Verdict> {
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
}

async function verifyDeleted(db: RowDatabase, info: TableInfo, key: string): Promise<Verification> {
  const observed = await readRow(db.pool, info, key);
  return observed === null
    ? { ok: true, observed, expected: null }
    : { ok: false, observed, expected: null, reason: `row ${key} still exists after delete` };
}

function judge({ observed, expected, differing }: Verdict, info: TableInfo, key: string): Verification {
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
}

export async function verify<P>(db: RowDatabase, change: RowChange<P>, call: ActionCall<P>): Promise<Verification> {
  const { info, key } = await db.tableFor(call.target);
  const asked = change.requested(call.params, key, info);
  if (asked === null) return verifyDeleted(db, info, key);
  let verdict: Verdict;
  try {
    verdict = await holds(db.pool, info, key, asked);
  } catch (error) {
    // Only a value the column cannot take gets here, and then it cannot hold what was asked.
    if (!(error instanceof pg.DatabaseError) || !error.code?.startsWith('22')) throw error;
    return {
      ok: false,
      observed: await readRow(db.pool, info, key),
      expected: asked,
      reason: `what was asked does not fit the columns of ${info.name}: ${error.message}`,
    };
  }
  return judge(verdict, info, key);
}
