import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { prepareRecordSafe } from '../../src/ledger/record.js';
import { SEALED_MARKER } from '../../src/verify/sealed.js';

const draft = (payload: unknown) => ({ type: 'manual.note', actor: { id: 'alice', kind: 'user' }, payload });

function problemOf(payload: unknown): string | null {
  const prepared = prepareRecordSafe(draft(payload));
  return prepared.ok ? null : prepared.problem;
}

class Account {
  tier = 'gold';
}

// A payload is checked in one walk (record.ts), not by zod's z.json() and then again: every value
// that walk lets through must be one that JSON, RFC 8785 and jsonb all carry as it is.
describe('a record payload that JSON cannot carry is refused, naming where', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const refused: Array<[string, unknown, RegExp]> = [
    ['an undefined member', { a: undefined }, /payload\.a: a value of type undefined is not JSON/],
    ['NaN', { a: NaN }, /payload\.a: NaN is not a finite number/],
    ['Infinity in an array', { a: [1, Infinity] }, /payload\.a\[1\]: Infinity is not a finite number/],
    ['a function', { a: () => 1 }, /payload\.a: a value of type function is not JSON/],
    ['a bigint deep down', { a: { b: 10n } }, /payload\.a\.b: a value of type bigint is not JSON/],
    ['a symbol', { a: Symbol('s') }, /payload\.a: a value of type symbol is not JSON/],
    ['a Date', { at: new Date(0) }, /payload\.at: is not a plain JSON object/],
    ['a class instance', { account: new Account() }, /payload\.account: is not a plain JSON object/],
    ['a class instance as the payload', new Account(), /payload: is not a plain JSON object/],
    ['an array as the payload', [1, 2], /payload must be a JSON object/],
    ['null as the payload', null, /payload must be a JSON object/],
    ['a string as the payload', 'text', /payload must be a JSON object/],
    ['a NUL character in a key', { 'a\u0000b': 1 }, /contains a NUL character/],
    ['a lone surrogate', { a: '\ud800' }, /payload\.a: contains a lone UTF-16 surrogate/],
    ['a cycle', cyclic, /payload: cannot be read/],
    ['the sealed marker', { x: { [SEALED_MARKER]: 'v' } }, /is reserved for sealed personal values/],
  ];
  for (const [what, payload, expected] of refused)
    test(what, () => {
      const problem = problemOf(payload);
      assert.ok(problem, `${what} was accepted`);
      assert.match(problem, expected);
    });

  test('plain JSON, an object without a prototype and an empty payload are accepted and written as given', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, {
      b: [1, 'two', null, true],
      a: { c: -0.5 },
    });
    for (const payload of [{ nested: { list: [1, 'x', null, false, { deep: 1e21 }] } }, bare, {}]) {
      const prepared = prepareRecordSafe(draft(payload));
      assert.ok(prepared.ok, prepared.ok ? '' : prepared.problem);
      assert.deepEqual(
        JSON.parse(prepared.prepared.canonical.toString('utf8')).payload,
        JSON.parse(JSON.stringify(payload)),
      );
    }
  });
});
