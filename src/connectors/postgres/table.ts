import pg from 'pg';
import { ConnectorInputError } from '../types.js';
import type { RowTarget } from './target.js';
import { parseRowTarget, tableName } from './target.js';

export interface TableInfo {
  /** Quoted, schema-qualified name, safe to put in SQL. */
  sql: string;
  name: string;
  primaryKey: string;
  primaryKeyType: string;
  columns: Set<string>;
}

/**
 * `schema.table/key` (schema defaults to public), names read as PostgreSQL reads them (target.ts);
 * `table` is the canonical `schema.table`. Composite keys are not supported.
 */
export function parseTarget(target: string): { table: string; key: string; row: RowTarget } {
  const row = parseRowTarget(target);
  return { table: tableName(row), key: row.key, row };
}

const DESCRIBE = `
  SELECT c.oid::regclass::text AS name,
         (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
         (SELECT array_agg(a.attname::text) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
           WHERE i.indrelid = c.oid AND i.indisprimary) AS key_columns,
         (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
           WHERE i.indrelid = c.oid AND i.indisprimary LIMIT 1) AS key_type
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`;

/** Reads the table's shape from the catalog, so identifiers in SQL come from PostgreSQL, not the caller. */
export async function describeTable(pool: pg.Pool, qualifiedName: string): Promise<TableInfo> {
  // By exact catalog names, parsed as PostgreSQL parses them: the table read is the one the identity names.
  const { schema, table } = parseRowTarget(`${qualifiedName}/-`);
  const result = await pool.query<{ name: string; columns: string[]; key_columns: string[] | null; key_type: string | null }>(DESCRIBE, [schema, table]);
  const row = result.rows[0];
  if (!row) throw new ConnectorInputError(`table ${qualifiedName} does not exist (or is not visible to Writ's database user)`);
  if (!row.key_columns || row.key_columns.length !== 1 || !row.key_type) {
    throw new ConnectorInputError(`table ${qualifiedName} needs a single-column primary key for Writ to address rows`);
  }
  return {
    sql: `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`,
    name: row.name,
    primaryKey: row.key_columns[0]!,
    primaryKeyType: row.key_type,
    columns: new Set(row.columns),
  };
}

export function unknownColumns(table: TableInfo, values: Record<string, unknown>): string[] {
  return Object.keys(values).filter((column) => !table.columns.has(column));
}
