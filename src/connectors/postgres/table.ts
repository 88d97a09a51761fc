import pg from 'pg';
import { ConnectorInputError } from '../types.js';

export interface TableInfo {
  /** Quoted, schema-qualified name, safe to put in SQL. */
  sql: string;
  name: string;
  primaryKey: string;
  primaryKeyType: string;
  columns: Set<string>;
}

/** `schema.table/key` (schema defaults to public). Composite keys are not supported. */
export function parseTarget(target: string): { table: string; key: string } {
  const slash = target.indexOf('/');
  if (slash <= 0 || slash === target.length - 1) throw new ConnectorInputError(`target "${target}" must be <schema.table>/<primary key>, e.g. public.accounts/42`);
  const table = target.slice(0, slash);
  return { table: table.includes('.') ? table : `public.${table}`, key: target.slice(slash + 1) };
}

const DESCRIBE = `
  SELECT c.oid::regclass::text AS name,
         (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
         (SELECT array_agg(a.attname::text) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
           WHERE i.indrelid = c.oid AND i.indisprimary) AS key_columns,
         (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
           WHERE i.indrelid = c.oid AND i.indisprimary LIMIT 1) AS key_type
    FROM pg_class c
   WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')`;

/** Reads the table's shape from the catalog, so identifiers in SQL come from PostgreSQL, not the caller. */
export async function describeTable(pool: pg.Pool, qualifiedName: string): Promise<TableInfo> {
  const result = await pool.query<{ name: string; columns: string[]; key_columns: string[] | null; key_type: string | null }>(DESCRIBE, [qualifiedName]);
  const row = result.rows[0];
  if (!row) throw new ConnectorInputError(`table ${qualifiedName} does not exist (or is not visible to Writ's database user)`);
  if (!row.key_columns || row.key_columns.length !== 1 || !row.key_type) {
    throw new ConnectorInputError(`table ${qualifiedName} needs a single-column primary key for Writ to address rows`);
  }
  const [schema, table] = qualifiedName.split('.') as [string, string];
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
