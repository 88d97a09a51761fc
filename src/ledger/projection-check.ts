import type pg from 'pg';

/**
 * Compares the what-happened projection (writ.operations, what people read) with what the
 * records fold to, a range of operations at a time. The fold runs in the database, the same
 * function the append trigger uses, so the comparison cannot drift from the projection's own
 * rules; writ.operations_disagreements() (migration 0005) changes nothing.
 */
export interface ProjectionDisagreement {
  operationId: string;
  /** A column of writ.operations, or '*' when the row exists on one side only. */
  field: string;
  /** What writ.operations holds (null: no row, or a null column). */
  stored: unknown;
  /** What the records fold to. */
  recomputed: unknown;
}

export interface ProjectionVerdict {
  ok: boolean;
  /** Operations named by at least one record. */
  operations: number;
  disagreements: ProjectionDisagreement[];
}

// The next operation ids after $1 that records name, one index probe each (a loose index scan).
const NEXT_OPERATIONS = `
  WITH RECURSIVE ops AS (
    (SELECT r.operation_id FROM writ.records r WHERE r.operation_id > $1 ORDER BY r.operation_id LIMIT 1)
    UNION ALL
    SELECT (SELECT r.operation_id FROM writ.records r WHERE r.operation_id > o.operation_id ORDER BY r.operation_id LIMIT 1)
      FROM ops o WHERE o.operation_id IS NOT NULL
  )
  SELECT operation_id FROM ops WHERE operation_id IS NOT NULL LIMIT $2`;

/** `batch` bounds how many operations' rows are locked (appends to them wait) at a time. */
export async function checkProjection(pool: pg.Pool, options: { batch?: number } = {}): Promise<ProjectionVerdict> {
  const batch = options.batch ?? 200;
  const disagreements: ProjectionDisagreement[] = [];
  let operations = 0;
  // '' sorts before every id (ids are never empty); the last range has no upper bound, so rows
  // for operations no record names are found too.
  for (let after = ''; ;) {
    const ids = (await pool.query<{ operation_id: string }>(NEXT_OPERATIONS, [after, batch])).rows.map(
      (row) => row.operation_id,
    );
    operations += ids.length;
    const through = ids.length === batch ? ids[ids.length - 1]! : null;
    const found = await pool.query<{ operation_id: string; field: string; stored: unknown; recomputed: unknown }>(
      'SELECT operation_id, field, stored, recomputed FROM writ.operations_disagreements($1, $2)',
      [after, through],
    );
    for (const row of found.rows)
      disagreements.push({
        operationId: row.operation_id,
        field: row.field,
        stored: row.stored,
        recomputed: row.recomputed,
      });
    if (through === null) break;
    after = through;
  }
  return { ok: disagreements.length === 0, operations, disagreements };
}

export function describeDisagreement(d: ProjectionDisagreement): string {
  if (d.field === '*') {
    return d.stored === null
      ? `operation ${d.operationId}: writ.operations has no row, but its records fold to one`
      : `operation ${d.operationId}: writ.operations has a row, but no record names this operation`;
  }
  return `operation ${d.operationId}: ${d.field} is ${short(d.stored)} in writ.operations, but the records say ${short(d.recomputed)}`;
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
