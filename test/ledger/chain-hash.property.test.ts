import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { chainHash, sha256OfBoth } from '../../src/verify/hash.js';
import { leafHash } from '../../src/verify/merkle.js';

const reference = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
};

// Sizes on both sides of the reused input's 16 KiB, where the hashing switches to a fresh copy.
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.integer({ min: 16 * 1024 - 40, max: 16 * 1024 + 40 }).map((n) => new Uint8Array(n).map((_, i) => (i * 7) % 251)),
);

describe('hashing a concatenation through one reused input', () => {
  test('SHA-256(a || b), the chain hash and the leaf hash equal a plain Hash over the same bytes', () => {
    fc.assert(
      fc.property(bytes, bytes, (a, b) => {
        assert.deepEqual(sha256OfBoth(a, b), reference(a, b));
        assert.deepEqual(chainHash(a, b), reference(a, b));
        assert.deepEqual(leafHash(b), reference(Buffer.from([0]), b));
      }),
      { numRuns: 300 },
    );
  });

  test('a result is not changed by the hashing that follows it, nor a short input by a long one before it', () => {
    const long = new Uint8Array(15000).fill(0xab);
    const first = sha256OfBoth(long, long.subarray(0, 1000));
    const short = sha256OfBoth(Buffer.from('a'), Buffer.from('b'));
    assert.deepEqual(short, reference(Buffer.from('ab')));
    assert.deepEqual(first, reference(long, long.subarray(0, 1000)));
  });
});
