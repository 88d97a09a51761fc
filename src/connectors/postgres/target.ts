import { ConnectorInputError } from '../types.js';

/**
 * A row addressed by a target, with the table's name as PostgreSQL reads it (quotes removed, unquoted
 * parts folded).
 */
export interface RowTarget {
  schema: string;
  table: string;
  key: string;
}

// PostgreSQL truncates longer identifiers, so two spellings would name one table.
const MAX_IDENTIFIER_BYTES = 63;
const UNQUOTED = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/;
const PLAIN = /^[a-z_][a-z0-9_$]*$/;

const refuse = (target: string, why: string) =>
  new ConnectorInputError(
    `target ${JSON.stringify(target)} ${why}; it must be <schema.table>/<primary key>, e.g. public.accounts/42`,
  );

/**
 * Parses `schema.table/key` the way PostgreSQL parses a qualified name: `"Writ".x` keeps its
 * case, `WRIT.X` folds to `writ.x`. A name without a schema means `public`, never the search
 * path, so what is checked is what is written.
 */
export function parseTarget(target: string): RowTarget {
  const parts: string[] = [];
  let at = 0;
  for (;;) {
    let part: string;
    if (target[at] === '"') {
      let end = at + 1;
      part = '';
      for (;;) {
        const quote = target.indexOf('"', end);
        if (quote < 0) throw refuse(target, 'has an unterminated quoted name');
        part += target.slice(end, quote);
        if (target[quote + 1] === '"') {
          part += '"';
          end = quote + 2;
        } else {
          at = quote + 1;
          break;
        }
      }
      if (part === '') throw refuse(target, 'has an empty quoted name');
    } else {
      const match = UNQUOTED.exec(target.slice(at));
      if (!match) throw refuse(target, `has no valid name at position ${at + 1}`);
      // PostgreSQL folds only ASCII letters of an unquoted name.
      part = match[0].replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
      at += match[0].length;
    }
    if (Buffer.byteLength(part) > MAX_IDENTIFIER_BYTES)
      throw refuse(target, `names ${JSON.stringify(part)}, longer than PostgreSQL's ${MAX_IDENTIFIER_BYTES} bytes`);
    parts.push(part);
    if (target[at] === '.') {
      at++;
      continue;
    }
    if (target[at] === '/') break;
    throw refuse(
      target,
      at >= target.length ? 'has no primary key' : `has ${JSON.stringify(target[at])} where "." or "/" belongs`,
    );
  }
  if (parts.length > 2) throw refuse(target, 'names a database or more than schema and table');
  const key = target.slice(at + 1);
  if (key === '') throw refuse(target, 'has no primary key');
  const [schema, table] = parts.length === 2 ? (parts as [string, string]) : ['public', parts[0]!];
  return { schema, table, key };
}

/** An identifier as `quote_ident` writes it: bare when that reads back the same, quoted otherwise. */
export const quoteIdent = (name: string) => (PLAIN.test(name) ? name : `"${name.replace(/"/g, '""')}"`);

/** `schema.table`, unambiguous: what identities, messages and table globs use. */
export const tableName = (target: { schema: string; table: string }) =>
  `${quoteIdent(target.schema)}.${quoteIdent(target.table)}`;
