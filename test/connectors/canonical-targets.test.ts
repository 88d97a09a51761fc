import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalTarget, normalizeBaseUrl } from '../../src/connectors/http/target.js';
import { parseTarget, tableName } from '../../src/connectors/postgres/target.js';

const canonicalRow = (target: string) => {
  const row = parseTarget(target);
  return `${tableName(row)}/${row.key}`;
};

describe('postgres row targets, read as PostgreSQL reads names', () => {
  test('unquoted names fold to lower case and the schema defaults to public', () => {
    for (const spelling of [
      'accounts/42',
      'ACCOUNTS/42',
      'Public.Accounts/42',
      '"public"."accounts"/42',
      'public."accounts"/42',
    ]) {
      assert.equal(canonicalRow(spelling), 'public.accounts/42', spelling);
    }
  });

  test('a quoted name keeps its case, so "Accounts" is another table, written quoted', () => {
    assert.equal(canonicalRow('"Accounts"/42'), 'public."Accounts"/42');
    assert.equal(canonicalRow('crm."odd""name"/1'), 'crm."odd""name"/1');
    assert.equal(canonicalRow('"a/b"/7'), 'public."a/b"/7', 'a slash inside quotes is part of the name');
  });

  test('names longer than 63 bytes are refused: PostgreSQL would cut them, so two spellings would name one table', () => {
    const long = 'a'.repeat(63);
    assert.equal(canonicalRow(`${long}/1`), `public.${long}/1`);
    assert.throws(() => parseTarget(`${long}xyz/1`), /longer than PostgreSQL's 63 bytes/);
    assert.throws(() => parseTarget(`"${long}XYZ"/1`), /longer than PostgreSQL's 63 bytes/);
  });

  test('what PostgreSQL would not read as a name is refused with the reason', () => {
    for (const [target, why] of [
      ['/42', /no valid name at position 1/],
      ['accounts', /no primary key/],
      ['accounts/', /no primary key/],
      ['a.b.c/1', /more than schema and table/],
      ['"open/1', /unterminated/],
      ['""/1', /empty quoted name/],
      ['acc ounts/1', /where "." or "\/" belongs/],
    ] as const) {
      assert.throws(() => parseTarget(target), why, target);
    }
  });
});

describe('http targets', () => {
  const base = normalizeBaseUrl('http://127.0.0.1:1/api');

  test('runs of slashes collapse, unreserved percent-encodings decode and the rest are upper-cased', () => {
    for (const spelling of ['accounts/42', 'accounts//42', 'accounts/%34%32', '%61ccounts/42'])
      assert.equal(canonicalTarget(base, spelling), 'accounts/42', spelling);
    assert.equal(canonicalTarget(base, 'notes/caf%c3%a9'), 'notes/caf%C3%A9');
  });

  test('dot segments, encoded or not, are still refused', () => {
    for (const target of ['accounts/../admin', 'accounts/%2e%2e/admin', 'accounts/./42'])
      assert.throws(() => canonicalTarget(base, target), /segment/, target);
  });
});
