import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalTarget, normalizeBaseUrl } from '../../src/connectors/http/target.js';
import { parseRowTarget, tableName } from '../../src/connectors/postgres/target.js';

const canonicalRow = (target: string) => {
  const row = parseRowTarget(target);
  return `${tableName(row)}/${row.key}`;
};

describe('postgres row targets, read as PostgreSQL reads names', () => {
  test('unquoted names fold to lower case and the schema defaults to public', () => {
    for (const spelling of ['accounts/42', 'ACCOUNTS/42', 'Public.Accounts/42', '"public"."accounts"/42', 'public."accounts"/42']) {
      assert.equal(canonicalRow(spelling), 'public.accounts/42', spelling);
    }
  });

  test('a quoted name keeps its case, so "Accounts" is another table, written quoted', () => {
    assert.equal(canonicalRow('"Accounts"/42'), 'public."Accounts"/42');
    assert.equal(canonicalRow('crm."odd""name"/1'), 'crm."odd""name"/1');
    assert.equal(canonicalRow('"a/b"/7'), 'public."a/b"/7', 'a slash inside quotes is part of the name');
  });

  test('names are cut to 63 bytes, as PostgreSQL cuts them, so a longer spelling is the same table', () => {
    const long = 'a'.repeat(63);
    assert.equal(canonicalRow(`${long}xyz/1`), `public.${long}/1`);
    assert.equal(canonicalRow(`"${long}XYZ"/1`), `public.${long}/1`);
  });

  test('what PostgreSQL would not read as a name is refused with the reason', () => {
    for (const [target, why] of [['/42', /does not start with a table name/], ['accounts', /something other than/], ['accounts/', /no primary key/],
      ['a.b.c/1', /more than schema and table/], ['"open/1', /unterminated/], ['""/1', /empty quoted name/], ['acc ounts/1', /something other than/]] as const) {
      assert.throws(() => parseRowTarget(target), why, target);
    }
  });
});

describe('http targets', () => {
  const base = normalizeBaseUrl('http://127.0.0.1:1/api');

  test('runs of slashes collapse, unreserved percent-encodings decode and the rest are upper-cased', () => {
    for (const spelling of ['accounts/42', 'accounts//42', 'accounts/%34%32', '%61ccounts/42']) assert.equal(canonicalTarget(base, spelling), 'accounts/42', spelling);
    assert.equal(canonicalTarget(base, 'notes/caf%c3%a9'), 'notes/caf%C3%A9');
  });

  test('dot segments, encoded or not, are still refused', () => {
    for (const target of ['accounts/../admin', 'accounts/%2e%2e/admin', 'accounts/./42']) assert.throws(() => canonicalTarget(base, target), /segment/, target);
  });
});
