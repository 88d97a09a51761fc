import type { Connection } from '@temporalio/client';
import { WRIT_SEARCH_ATTRIBUTES } from '../model/search-attributes.js';
import type { CheckResult } from './check.js';
import { fail, ok } from './check.js';

const NAME = 'search-attributes';

// temporal.api.enums.v1.IndexedValueType, with the type names `temporal operator` takes.
const TYPES: Record<string, { value: number; cli: string }> = {
  TEXT: { value: 1, cli: 'Text' },
  KEYWORD: { value: 2, cli: 'Keyword' },
  INT: { value: 3, cli: 'Int' },
  DOUBLE: { value: 4, cli: 'Double' },
  BOOL: { value: 5, cli: 'Bool' },
  DATETIME: { value: 6, cli: 'Datetime' },
  KEYWORD_LIST: { value: 7, cli: 'KeywordList' },
};

const cliType = (value: number | undefined) =>
  Object.values(TYPES).find((type) => type.value === value)?.cli ?? `type ${value}`;

/** Every key of src/model/search-attributes.ts, registered in the namespace with its own type. */
export async function searchAttributesCheck(connection: Connection, namespace: string): Promise<CheckResult> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const registered = (customAttributes ?? {}) as Record<string, number>;
  const problems: string[] = [];
  const fixes: string[] = [];
  for (const key of Object.values(WRIT_SEARCH_ATTRIBUTES)) {
    const want = TYPES[key.type]!;
    const create = `temporal operator search-attribute create --namespace ${namespace} --name ${key.name} --type ${want.cli}`;
    const have = registered[key.name];
    if (have === undefined) {
      problems.push(`${key.name} is not registered`);
      fixes.push(create);
    } else if (have !== want.value) {
      problems.push(`${key.name} is ${cliType(have)}, not ${want.cli}`);
      // A search attribute's type cannot change in place: remove it, then create it anew.
      fixes.push(`temporal operator search-attribute remove --namespace ${namespace} --name ${key.name} --yes`, create);
    }
  }
  if (problems.length) return fail(NAME, `in namespace ${namespace}: ${problems.join('; ')}`, fixes.join(' && '));
  return ok(NAME, `${Object.keys(WRIT_SEARCH_ATTRIBUTES).length} Writ search attributes registered in ${namespace}`);
}
