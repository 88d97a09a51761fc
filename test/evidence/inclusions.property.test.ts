import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeBase64Strict } from '../../src/verify/base64.js';
import type { InclusionClaim } from '../../src/verify/inclusions.js';
import { verifyInclusions } from '../../src/verify/inclusions.js';
import { inclusionProof, leafHash, rootOf, verifyInclusion } from '../../src/verify/merkle.js';

/** How a claim can be wrong: what a forger, or damage, could change. */
const damage = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('leaf' as const), bit: fc.nat(255) }),
  fc.record({ kind: fc.constant('hash' as const), at: fc.nat(), bit: fc.nat(255) }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('extra' as const) }),
  fc.record({ kind: fc.constant('index' as const), by: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ kind: fc.constant('borrow' as const), from: fc.nat() }),
);
type Damage = typeof damage extends fc.Arbitrary<infer T> ? T : never;

function flip(hash: Uint8Array, bit: number): Buffer {
  const copy = Buffer.from(hash);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

function damaged(claim: InclusionClaim, change: Damage, honest: InclusionClaim[]): InclusionClaim {
  const proof = [...claim.proof];
  const at = (n: number) => n % Math.max(proof.length, 1);
  switch (change.kind) {
    case 'none':
      return claim;
    case 'leaf':
      return { ...claim, leaf: flip(claim.leaf, change.bit) };
    case 'hash':
      if (proof.length) proof[at(change.at)] = flip(proof[at(change.at)]!, change.bit);
      return { ...claim, proof };
    case 'swap':
      if (proof.length > 1) [proof[0], proof[at(change.at)]] = [proof[at(change.at)]!, proof[0]!];
      return { ...claim, proof };
    case 'drop':
      proof.splice(at(change.at), 1);
      return { ...claim, proof };
    case 'extra':
      return { ...claim, proof: [...proof, randomBytes(32)] };
    case 'index':
      return { ...claim, index: claim.index + change.by };
    case 'borrow': {
      // Another record's proof shares its upper levels with this one: a cache keyed on less than
      // every input would pass it.
      const other = honest[change.from % honest.length]!;
      return { ...claim, proof: other.proof };
    }
  }
}

describe('inclusion proofs of many records at once', () => {
  test('answer every claim exactly as the one-at-a-time RFC 9162 check does, honest or damaged, in any order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.tuple(fc.nat(), damage), { minLength: 1, maxLength: 40 }),
        (size, picks) => {
          const leaves = Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`record ${i}`)));
          const root = rootOf(leaves);
          const honest = picks.map(([pick]) => {
            const index = pick % size;
            return { leaf: leaves[index]!, index, proof: inclusionProof(leaves, index) };
          });
          const claims = honest.map((claim, i) => damaged(claim, picks[i]![1], honest));
          const one = claims.map((c) => verifyInclusion(c.leaf, c.index, size, c.proof, root));
          assert.deepEqual(verifyInclusions(claims, size, root), one);
          // Honest claims first, so that a damaged one meets a cache filled by good ones.
          const order = [...claims.keys()].sort((a, b) => Number(one[b]) - Number(one[a]));
          assert.deepEqual(
            verifyInclusions(
              order.map((i) => claims[i]!),
              size,
              root,
            ),
            order.map((i) => one[i]),
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  test('a claim against another root, or a root of the wrong length, fails', () => {
    const leaves = Array.from({ length: 37 }, (_, i) => leafHash(Buffer.from(`r${i}`)));
    const claims = [3, 17, 36].map((index) => ({ leaf: leaves[index]!, index, proof: inclusionProof(leaves, index) }));
    assert.deepEqual(verifyInclusions(claims, 37, rootOf(leaves)), [true, true, true]);
    assert.deepEqual(verifyInclusions(claims, 37, rootOf(leaves.slice(0, 36))), [false, false, false]);
    assert.deepEqual(verifyInclusions(claims, 37, rootOf(leaves).subarray(0, 31)), [false, false, false]);
  });
});

describe('strict base64', () => {
  const STANDARD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
  const reference = (text: string): Buffer | null => {
    if (!STANDARD.test(text)) return null;
    const bytes = Buffer.from(text, 'base64');
    return bytes.toString('base64') === text ? bytes : null;
  };
  /** Canonical spellings, and the ways to spell the same bytes otherwise that a lenient decoder takes. */
  const spelling = fc
    .tuple(fc.uint8Array({ maxLength: 40 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 9 }))
    .map(([bytes, at, pick, how]) => {
      const text = Buffer.from(bytes).toString('base64');
      const i = text.length ? at % (text.length + 1) : 0;
      const inserted = ['\n', ' ', '=', '-', '_', '*', 'A', '\u00e9'][pick % 8]!;
      if (how === 0 || how === 1) return text;
      if (how === 2) return text.replace(/=+$/, '');
      if (how === 3) return text.replace(/\+/g, '-').replace(/\//g, '_');
      if (how === 4 && text.length) {
        // Stray bits: the last character before the padding changed in its low bits.
        const last = text.replace(/=+$/, '').length - 1;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
        const c = alphabet[(alphabet.indexOf(text[last]!) ^ (1 + (pick % 3))) % 64]!;
        return text.slice(0, last) + c + text.slice(last + 1);
      }
      return text.slice(0, i) + inserted + text.slice(i);
    });

  test('takes exactly the texts the RFC 4648 pattern and a round trip take, and gives the same bytes', () => {
    fc.assert(
      fc.property(spelling, (text) => {
        assert.deepEqual(decodeBase64Strict(text), reference(text));
      }),
      { numRuns: 5000 },
    );
    assert.equal(decodeBase64Strict('AA'), null);
    assert.equal(decodeBase64Strict('AB=='), null);
    assert.equal(decodeBase64Strict('AA==\n'), null);
    assert.deepEqual(decodeBase64Strict('AA=='), Buffer.from([0]));
    assert.deepEqual(decodeBase64Strict(''), Buffer.alloc(0));
  });
});
