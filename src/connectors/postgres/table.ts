import type pg from 'pg';
import { ConnectorInputError } from '../types.js';
import type { RowTarget } from './target.js';
import { tableName } from './target.js';
import { globMatcher } from '../../model/glob.js';

export interface TableInfo {
  /** Quoted, schema-qualified name from the catalog, safe to put in SQL. */
  sql: string;
  name: string;
  primaryKey: string;
  primaryKeyType: string;
  columns: Set<string>;
}

/**
 * Why a schema is out of reach, or null. PostgreSQL's own (catalogs, TOAST, temporary tables)
 * and Writ's (the ledger, anchors, this connector's bookkeeping, any later `writ_*`): a write
 * there could rewrite the evidence or the database itself. Case-insensitive, so a look-alike
 * `"Writ"` is refused too.
 */
export function reservedSchema(schema: string): string | null {
  const lower = schema.toLowerCase();
  if (lower.startsWith('pg_') || lower === 'information_schema')
    return `schema ${schema} belongs to PostgreSQL (system catalogs, TOAST or temporary tables)`;
  if (lower === 'writ' || lower.startsWith('writ_'))
    return `schema ${schema} belongs to Writ (its ledger and bookkeeping), which no connector may write`;
  return null;
}

const KINDS: Record<string, string> = {
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
  S: 'sequence',
  c: 'composite type',
  i: 'index',
  I: 'index',
  t: 'TOAST table',
};

// By schema and name, never through the search path or regclass parsing: the relation found is
// the one named, and its namespace is the one checked.
const DESCRIBE = `
  SELECT c.relkind, c.relpersistence,
         format('%I.%I', n.nspname, c.relname) AS sql,
         (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
         (SELECT array_agg(a.attname::text) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
           WHERE i.indrelid = c.oid AND i.indisprimary) AS key_columns,
         (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
           WHERE i.indrelid = c.oid AND i.indisprimary LIMIT 1) AS key_type,
         EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = c.oid) AS has_rules,
         (WITH RECURSIVE below(oid) AS (
            SELECT inhrelid FROM pg_inherits WHERE inhparent = c.oid
            UNION SELECT i.inhrelid FROM pg_inherits i JOIN below ON i.inhparent = below.oid)
          SELECT coalesce(jsonb_agg(jsonb_build_object('schema', dn.nspname, 'table', d.relname, 'kind', d.relkind)), '[]'::jsonb)
            FROM below JOIN pg_class d ON d.oid = below.oid JOIN pg_namespace dn ON dn.oid = d.relnamespace) AS descendants
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relname = $2`;

interface Described {
  relkind: string;
  relpersistence: string;
  sql: string;
  columns: string[];
  key_columns: string[] | null;
  key_type: string | null;
  has_rules: boolean;
  descendants: Array<{ schema: string; table: string; kind: string }>;
}

/**
 * Reads the table's shape from the catalog, so identifiers in SQL come from PostgreSQL, not the
 * caller, and refuses anything a write could leave through: a reserved schema, a view or foreign
 * table (they write wherever their definition reaches), rules (they rewrite where a write goes),
 * and children or partitions that are themselves out of reach.
 */
export async function describeTable(
  client: pg.Pool | pg.PoolClient,
  target: Pick<RowTarget, 'schema' | 'table'>,
): Promise<TableInfo> {
  const name = tableName(target);
  const reserved = reservedSchema(target.schema);
  if (reserved) throw new ConnectorInputError(`table ${name} is refused: ${reserved}`);
  const result = await client.query<Described>(DESCRIBE, [target.schema, target.table]);
  const row = result.rows[0];
  if (!row) throw new ConnectorInputError(`table ${name} does not exist (or is not visible to Writ's database user)`);
  if (row.relkind !== 'r' && row.relkind !== 'p') {
    throw new ConnectorInputError(
      `${name} is a ${KINDS[row.relkind] ?? `relation of kind ${row.relkind}`}; this connector writes ordinary tables only, since a view or foreign table writes wherever its definition reaches`,
    );
  }
  if (row.relpersistence === 't')
    throw new ConnectorInputError(`${name} is a temporary table, which this connector does not write`);
  if (row.has_rules)
    throw new ConnectorInputError(
      `table ${name} has rules, which can send a write elsewhere; this connector does not write tables with rules`,
    );
  for (const below of row.descendants) {
    const why =
      reservedSchema(below.schema) ??
      (below.kind === 'r' || below.kind === 'p' ? null : `it is a ${KINDS[below.kind] ?? below.kind}`);
    if (why)
      throw new ConnectorInputError(
        `table ${name} is refused: its child or partition ${tableName(below)} is out of reach (${why})`,
      );
  }
  if (!row.key_columns || row.key_columns.length !== 1 || !row.key_type) {
    throw new ConnectorInputError(`table ${name} needs a single-column primary key for Writ to address rows`);
  }
  return {
    sql: row.sql,
    name,
    primaryKey: row.key_columns[0]!,
    primaryKeyType: row.key_type,
    columns: new Set(row.columns),
  };
}

export function unknownColumns(table: TableInfo, values: Record<string, unknown>): string[] {
  return Object.keys(values).filter((column) => !table.columns.has(column));
}

/** `schema.table` globs (`crm.*`, `public.accounts`), matched against the names the catalog holds. */
export function tableMatcher(patterns: readonly string[]): (target: Pick<RowTarget, 'schema' | 'table'>) => boolean {
  const compiled = patterns.map((pattern) => {
    const dot = pattern.indexOf('.');
    if (dot <= 0 || dot === pattern.length - 1)
      throw new TypeError(
        `postgres connector: allowed table ${JSON.stringify(pattern)} must be <schema>.<table>, e.g. public.accounts or crm.*`,
      );
    return { schema: globMatcher(pattern.slice(0, dot)), table: globMatcher(pattern.slice(dot + 1)) };
  });
  return (target) => compiled.some((pattern) => pattern.schema(target.schema) && pattern.table(target.table));
}
