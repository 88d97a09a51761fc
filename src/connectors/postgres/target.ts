import { ConnectorInputError } from '../types.js';

/**
 * Row targets `[schema.]table/key`, read the way PostgreSQL reads identifiers, so that every
 * spelling that reaches a table has one canonical form (policy matches the canonical form: a
 * spelling PostgreSQL accepts must not be a way around a rule):
 * - unquoted names fold to lower case (ASCII letters only, as PostgreSQL does), `"Quoted"` keep
 *   theirs, `""` inside quotes is one `"`;
 * - names are cut to 63 bytes, as PostgreSQL cuts them (NAMEDATALEN - 1);
 * - the schema defaults to `public`.
 * The key's canonical form needs the key column's type; the connector casts it (see index.ts).
 */
export interface RowTarget {
  schema: string;
  table: string;
  key: string;
}

const NAME_BYTES = 63;
const PLAIN = /^[a-z_][a-z0-9_$]*$/;
const UNQUOTED = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/;

function truncate(name: string): string {
  let out = '';
  let bytes = 0;
  for (const char of name) {
    bytes += Buffer.byteLength(char, 'utf8');
    if (bytes > NAME_BYTES) break;
    out += char;
  }
  return out;
}

/** An identifier as SQL would have to write it: bare when it reads back the same, quoted otherwise. */
export function quoteName(name: string): string {
  return PLAIN.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function parseRowTarget(target: string): RowTarget {
  const refuse = (why: string) => new ConnectorInputError(`target ${JSON.stringify(target)} ${why}; write it as <schema.table>/<primary key>, e.g. public.accounts/42`);
  const names: string[] = [];
  let at = 0;
  for (;;) {
    if (target[at] === '"') {
      let name = '';
      let end = at + 1;
      for (;;) {
        const close = target.indexOf('"', end);
        if (close < 0) throw refuse('has an unterminated quoted name');
        name += target.slice(end, close);
        if (target[close + 1] === '"') {
          name += '"';
          end = close + 2;
          continue;
        }
        at = close + 1;
        break;
      }
      if (!name) throw refuse('has an empty quoted name');
      names.push(truncate(name));
    } else {
      const match = UNQUOTED.exec(target.slice(at));
      if (!match) throw refuse(at === 0 ? 'does not start with a table name' : 'has a name that is neither plain nor quoted');
      names.push(truncate(match[0].replace(/[A-Z]/g, (c) => c.toLowerCase())));
      at += match[0].length;
    }
    if (target[at] === '.') {
      at += 1;
      continue;
    }
    if (target[at] !== '/') throw refuse('has something other than "." or "/" after a name');
    break;
  }
  const key = target.slice(at + 1);
  if (!key) throw refuse('has no primary key after "/"');
  if (names.length > 2) throw refuse('names more than schema and table');
  const [schema, table] = names.length === 2 ? names as [string, string] : ['public', names[0]!];
  return { schema, table, key };
}

/** `schema.table`, canonical. */
export function tableName(target: Pick<RowTarget, 'schema' | 'table'>): string {
  return `${quoteName(target.schema)}.${quoteName(target.table)}`;
}
