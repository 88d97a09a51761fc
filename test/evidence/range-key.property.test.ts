import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { rangeKey } from '../../src/evidence/bundle/range-key.js';
import { inclusionProofRanges } from '../../src/verify/subtree.js';

/** Every range the inclusion proofs of `leaves` in a tree of `size` name, with the key each gets. */
function keysOf(size: number, leaves: Iterable<number>): Map<number | string, string> {
  const named = new Map<number | string, string>();
  for (const leaf of leaves)
    for (const range of inclusionProofRanges(leaf, size)) {
      const key = rangeKey(range);
      const spelled = `${range.start}/${range.end}`;
      const before = named.get(key);
      assert.ok(before === undefined || before === spelled, `${spelled} and ${before} share the key ${key}`);
      named.set(key, spelled);
    }
  return named;
}

describe('the key a bundle export gives a subtree its proofs pass', () => {
  test('two ranges of one tree never share a key, and one range always gets the same key', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), (size) => {
        const named = keysOf(
          size,
          Array.from({ length: size }, (_, leaf) => leaf),
        );
        assert.equal(new Set(named.values()).size, named.size);
      }),
      { numRuns: 60 },
    );
  });

  test('in trees far larger than a test can walk, for leaves anywhere in them', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2 ** 20, max: 2 ** 47 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 1, maxLength: 40 }),
        (size, spots) => {
          keysOf(
            size,
            spots.map((spot) => Math.floor(spot * size)),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  test('past 2^47 leaves, where start x 64 is no longer exact, the range is spelled out', () => {
    const size = 2 ** 50 + 12345;
    const named = keysOf(size, [size - 1, size - 2, 2 ** 48, 3]);
    for (const [key, spelled] of named)
      if (Number(spelled.split('/')[0]) >= 2 ** 47) assert.equal(key, spelled);
      else assert.equal(typeof key, 'number');
  });
});
