import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CompactRange } from '../../src/verify/compact-range.js';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../../src/verify/merkle.js';
import {
  consistencyProofFrom,
  inclusionProofFrom,
  rootFrom,
  subtreeHashesFromLeaves,
  subtreeHashesFromNodes,
} from '../../src/verify/subtree.js';

// ---------------------------------------------------------------------------------------------
// A naive tree written from the text of RFC 9162 §2.1 alone, over leaf data and array slices,
// sharing no code with src/evidence. Slow on purpose: it is the thing the real code must agree with.

const H = (...parts: Uint8Array[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const ZERO = Buffer.from([0]);
const ONE = Buffer.from([1]);

/** "the largest power of two smaller than n" */
function kOf(n: number): number {
  return 2 ** Math.floor(Math.log2(n - 1));
}

/** §2.1.1 MTH(D[n]) */
function naiveMth(d: Buffer[]): Buffer {
  if (d.length === 0) return H();
  if (d.length === 1) return H(ZERO, d[0]!);
  const k = kOf(d.length);
  return H(ONE, naiveMth(d.slice(0, k)), naiveMth(d.slice(k)));
}

/** The same root built bottom-up, a lone last node moving up a level unchanged: a second, independent formulation. */
function naiveRootBottomUp(d: Buffer[]): Buffer {
  if (d.length === 0) return H();
  let level = d.map((data) => H(ZERO, data));
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(H(ONE, level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/** §2.1.3.1 PATH(m, D[n]) */
function naivePath(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const k = kOf(d.length);
  return m < k
    ? [...naivePath(m, d.slice(0, k)), naiveMth(d.slice(k))]
    : [...naivePath(m - k, d.slice(k)), naiveMth(d.slice(0, k))];
}

/** §2.1.4.1 SUBPROOF(m, D[n], b) */
function naiveSubproof(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [naiveMth(d)];
  const k = kOf(d.length);
  return m <= k
    ? [...naiveSubproof(m, d.slice(0, k), b), naiveMth(d.slice(k))]
    : [...naiveSubproof(m - k, d.slice(k), false), naiveMth(d.slice(0, k))];
}

/**
 * Which side each PATH element is hashed on. A verifier's work is fixed by this shape alone, so
 * two claims (index, size) with the same shape are indistinguishable to any RFC 9162 verifier:
 * the root, bound to its size by a signed checkpoint, is what tells them apart.
 */
function inclusionShape(m: number, n: number): string | null {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m >= 0 && m < n)) return null;
  const walk = (i: number, size: number): string => {
    if (size === 1) return '';
    const k = kOf(size);
    return i < k ? `${walk(i, k)}R` : `${walk(i - k, size - k)}L`;
  };
  return walk(m, n);
}

/** The same for SUBPROOF: S is an old subtree's own hash, L an old-tree node on the left, R a new node on the right. */
function consistencyShape(m: number, n: number): string | null {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m > 0 && m < n)) return null;
  const walk = (old: number, size: number, b: boolean): string => {
    if (old === size) return b ? '' : 'S';
    const k = kOf(size);
    return old <= k ? `${walk(old, k, b)}R` : `${walk(old - k, size - k, false)}L`;
  };
  return walk(m, n, true);
}

// ---------------------------------------------------------------------------------------------

const treeData = (seed: number, size: number): Buffer[] =>
  Array.from({ length: size }, (_, i) => Buffer.from(`writ-test/${seed}/${i}`));

/** A tree as a database would hold it: every complete subtree CompactRange reported, keyed by (level, index). */
function storedNodes(leafHashes: Buffer[]): (level: number, index: number) => Buffer {
  const nodes = new Map<string, Buffer>();
  const range = new CompactRange();
  for (const hash of leafHashes) range.append(hash, ({ level, index }, node) => nodes.set(`${level}/${index}`, node));
  return (level, index) => {
    const node = nodes.get(`${level}/${index}`);
    if (!node) throw new Error(`node (${level}, ${index}) was never completed`);
    return node;
  };
}

const arbitraryTree = (min: number, max = 300): fc.Arbitrary<{ seed: number; size: number }> =>
  fc.record({ seed: fc.nat(), size: fc.integer({ min, max }) });

/** A tree with a leaf index in it. */
const inclusionCase = (minSize: number): fc.Arbitrary<{ seed: number; size: number; index: number }> =>
  arbitraryTree(minSize).chain(({ seed, size }) =>
    fc.integer({ min: 0, max: size - 1 }).map((index) => ({ seed, size, index })),
  );

/** A tree with an old size strictly inside it, so the proof is not empty. */
const consistencyCase = fc
  .record({ seed: fc.nat(), size2: fc.integer({ min: 2, max: 300 }) })
  .chain(({ seed, size2 }) => fc.integer({ min: 1, max: size2 - 1 }).map((size1) => ({ seed, size1, size2 })));

function inclusionFixture({ seed, size, index }: { seed: number; size: number; index: number }) {
  const leaves = treeData(seed, size).map(leafHash);
  return { leaves, leaf: leaves[index]!, proof: inclusionProof(leaves, index), root: rootOf(leaves) };
}

function consistencyFixture({ seed, size1, size2 }: { seed: number; size1: number; size2: number }) {
  const leaves = treeData(seed, size2).map(leafHash);
  return {
    leaves,
    root1: rootOf(leaves.slice(0, size1)),
    root2: rootOf(leaves),
    proof: consistencyProof(leaves, size1),
  };
}

const flipBit = (proof: Buffer[], element: number, bit: number): Buffer[] =>
  proof.map((hash, i) => {
    const copy = Buffer.from(hash);
    if (i === element) copy[bit >> 3]! ^= 1 << (bit & 7);
    return copy;
  });

describe('Merkle trees, compared with a naive tree written from RFC 9162', () => {
  test('the two naive formulations agree, and the RFC 6962 test vector holds for them', () => {
    const vector = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ].map((hex) => Buffer.from(hex, 'hex'));
    assert.equal(naiveMth(vector).toString('hex'), '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
    for (let size = 0; size <= 70; size++)
      assert.deepEqual(naiveMth(treeData(7, size)), naiveRootBottomUp(treeData(7, size)), `size ${size}`);
  });

  test('roots agree across the reference, the naive tree, CompactRange and both subtree sources', () => {
    fc.assert(
      fc.property(arbitraryTree(0), ({ seed, size }) => {
        const data = treeData(seed, size);
        const leaves = data.map(leafHash);
        const expected = naiveMth(data);
        const range = new CompactRange();
        for (const hash of leaves) range.append(hash);
        assert.deepEqual(rootOf(leaves), expected);
        assert.deepEqual(naiveRootBottomUp(data), expected);
        assert.deepEqual(range.root(), expected);
        assert.deepEqual(rootFrom(size, subtreeHashesFromLeaves(leaves)), expected);
        assert.deepEqual(rootFrom(size, subtreeHashesFromNodes(storedNodes(leaves))), expected);
      }),
      { numRuns: 200 },
    );
  });

  test('inclusion proofs equal the naive PATH from every builder, and verify', () => {
    fc.assert(
      fc.property(inclusionCase(1), fc.nat({ max: 40 }), ({ seed, size, index }, grownBy) => {
        const data = treeData(seed, size + grownBy);
        const leaves = data.map(leafHash);
        const current = leaves.slice(0, size);
        const expected = naivePath(index, data.slice(0, size));
        assert.deepEqual(inclusionProof(current, index), expected);
        assert.deepEqual(inclusionProofFrom(index, size, subtreeHashesFromLeaves(current)), expected);
        // A store that has grown since still answers for the older tree.
        assert.deepEqual(inclusionProofFrom(index, size, subtreeHashesFromNodes(storedNodes(leaves))), expected);
        assert.equal(verifyInclusion(leaves[index]!, index, size, expected, naiveMth(data.slice(0, size))), true);
      }),
      { numRuns: 300 },
    );
  });

  test('consistency proofs equal the naive PROOF from every builder, and verify', () => {
    const anySizes = fc
      .record({ seed: fc.nat(), size2: fc.integer({ min: 0, max: 300 }), grownBy: fc.nat({ max: 40 }) })
      .chain((tree) => fc.integer({ min: 0, max: tree.size2 }).map((size1) => ({ ...tree, size1 })));
    fc.assert(
      fc.property(anySizes, ({ seed, size1, size2, grownBy }) => {
        const data = treeData(seed, size2 + grownBy);
        const leaves = data.map(leafHash);
        const current = leaves.slice(0, size2);
        const expected = size1 > 0 && size1 < size2 ? naiveSubproof(size1, data.slice(0, size2), true) : [];
        assert.deepEqual(consistencyProof(current, size1), expected);
        assert.deepEqual(consistencyProofFrom(size1, size2, subtreeHashesFromLeaves(current)), expected);
        assert.deepEqual(consistencyProofFrom(size1, size2, subtreeHashesFromNodes(storedNodes(leaves))), expected);
        assert.equal(
          verifyConsistency(size1, size2, naiveMth(data.slice(0, size1)), naiveMth(data.slice(0, size2)), expected),
          true,
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('a changed inclusion claim', () => {
  test('is rejected when any bit of any proof element is flipped', () => {
    fc.assert(
      fc.property(inclusionCase(2), fc.nat(), fc.integer({ min: 0, max: 255 }), (tree, pick, bit) => {
        const { leaf, proof, root } = inclusionFixture(tree);
        assert.equal(
          verifyInclusion(leaf, tree.index, tree.size, flipBit(proof, pick % proof.length, bit), root),
          false,
        );
      }),
      { numRuns: 300 },
    );
  });

  test('is rejected at any other index of the same tree', () => {
    fc.assert(
      fc.property(inclusionCase(2), fc.integer({ min: -5, max: 400 }), (tree, other) => {
        fc.pre(other !== tree.index);
        const { leaf, proof, root } = inclusionFixture(tree);
        assert.equal(verifyInclusion(leaf, other, tree.size, proof, root), false);
      }),
      { numRuns: 300 },
    );
  });

  test('with another index or size is accepted only where the path has the very same shape', () => {
    let sameShape = 0;
    fc.assert(
      fc.property(
        inclusionCase(1),
        fc.integer({ min: -2, max: 600 }),
        fc.integer({ min: -2, max: 600 }),
        (tree, index, size) => {
          fc.pre(index !== tree.index || size !== tree.size);
          const { leaf, proof, root } = inclusionFixture(tree);
          const shape = inclusionShape(index, size);
          const expected = shape !== null && shape === inclusionShape(tree.index, tree.size);
          if (expected) sameShape++;
          assert.equal(verifyInclusion(leaf, index, size, proof, root), expected);
        },
      ),
      { numRuns: 500 },
    );
    // Nearby sizes share shapes often enough for both outcomes to have been exercised.
    fc.assert(
      fc.property(inclusionCase(1), (tree) => {
        const { leaf, proof, root } = inclusionFixture(tree);
        const larger = tree.size + 1;
        assert.equal(
          verifyInclusion(leaf, tree.index, larger, proof, root),
          inclusionShape(tree.index, larger) === inclusionShape(tree.index, tree.size),
        );
        if (inclusionShape(tree.index, larger) === inclusionShape(tree.index, tree.size)) sameShape++;
      }),
      { numRuns: 200 },
    );
    assert.ok(sameShape > 0, 'some same-shape claims were generated');
  });

  test('is rejected when the proof is truncated or extended anywhere', () => {
    fc.assert(
      fc.property(
        inclusionCase(1),
        fc.nat(),
        fc.nat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.boolean(),
        (tree, cut, at, extra, truncate) => {
          const { leaf, proof, root } = inclusionFixture(tree);
          fc.pre(!truncate || proof.length > 0);
          const changed = truncate
            ? proof.slice(0, cut % proof.length)
            : [...proof.slice(0, at % (proof.length + 1)), Buffer.from(extra), ...proof.slice(at % (proof.length + 1))];
          assert.equal(verifyInclusion(leaf, tree.index, tree.size, changed, root), false);
          assert.equal(verifyInclusion(leaf, tree.index, tree.size, [...proof, root], root), false);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('is rejected when two proof elements are swapped', () => {
    fc.assert(
      fc.property(inclusionCase(3), fc.nat(), fc.nat(), (tree, a, b) => {
        const { leaf, proof, root } = inclusionFixture(tree);
        const i = a % proof.length;
        const j = b % proof.length;
        fc.pre(i !== j);
        const swapped = [...proof];
        [swapped[i], swapped[j]] = [proof[j]!, proof[i]!];
        assert.equal(verifyInclusion(leaf, tree.index, tree.size, swapped, root), false);
      }),
      { numRuns: 300 },
    );
  });

  test('is rejected against another root or for another leaf', () => {
    fc.assert(
      fc.property(inclusionCase(2), fc.uint8Array({ minLength: 32, maxLength: 32 }), (tree, random) => {
        const { leaves, leaf, proof, root } = inclusionFixture(tree);
        assert.equal(verifyInclusion(leaf, tree.index, tree.size, proof, Buffer.from(random)), false);
        assert.equal(verifyInclusion(leaf, tree.index, tree.size, proof, rootOf(leaves.slice(0, -1))), false);
        assert.equal(verifyInclusion(leaves[(tree.index + 1) % tree.size]!, tree.index, tree.size, proof, root), false);
        assert.equal(verifyInclusion(Buffer.from(random), tree.index, tree.size, proof, root), false);
      }),
      { numRuns: 200 },
    );
  });

  test('is rejected, without throwing, when an element has the wrong length', () => {
    fc.assert(
      fc.property(inclusionCase(2), fc.nat(), fc.integer({ min: 0, max: 64 }), (tree, pick, length) => {
        fc.pre(length !== 32);
        const { leaf, proof, root } = inclusionFixture(tree);
        const i = pick % proof.length;
        const changed = proof.map((hash, j) =>
          j === i ? Buffer.concat([hash, Buffer.alloc(32)]).subarray(0, length) : hash,
        );
        assert.equal(verifyInclusion(leaf, tree.index, tree.size, changed, root), false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('a changed consistency claim', () => {
  test('is rejected when any bit of any proof element is flipped', () => {
    fc.assert(
      fc.property(consistencyCase, fc.nat(), fc.integer({ min: 0, max: 255 }), (tree, pick, bit) => {
        const { root1, root2, proof } = consistencyFixture(tree);
        assert.equal(
          verifyConsistency(tree.size1, tree.size2, root1, root2, flipBit(proof, pick % proof.length, bit)),
          false,
        );
      }),
      { numRuns: 300 },
    );
  });

  test('with other sizes is accepted only where the proof has the very same shape', () => {
    let sameShape = 0;
    fc.assert(
      fc.property(
        consistencyCase,
        fc.integer({ min: -2, max: 600 }),
        fc.integer({ min: -2, max: 600 }),
        fc.boolean(),
        (tree, a, b, nearby) => {
          const size1 = nearby ? tree.size1 + (a % 3) - 1 : a;
          const size2 = nearby ? tree.size2 + (b % 3) - 1 : b;
          fc.pre(size1 !== tree.size1 || size2 !== tree.size2);
          const { root1, root2, proof } = consistencyFixture(tree);
          const shape = consistencyShape(size1, size2);
          const expected = shape !== null && shape === consistencyShape(tree.size1, tree.size2);
          if (expected) sameShape++;
          assert.equal(verifyConsistency(size1, size2, root1, root2, proof), expected);
        },
      ),
      { numRuns: 600 },
    );
    assert.ok(sameShape > 0, 'some same-shape claims were generated');
  });

  test('is rejected when the proof is truncated or extended anywhere', () => {
    fc.assert(
      fc.property(
        consistencyCase,
        fc.nat(),
        fc.nat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom('truncate', 'random', 'root1', 'root2'),
        (tree, cut, at, extra, how) => {
          const { root1, root2, proof } = consistencyFixture(tree);
          const position = at % (proof.length + 1);
          const inserted = { random: Buffer.from(extra), root1, root2, truncate: root1 }[how];
          const changed =
            how === 'truncate'
              ? proof.slice(0, cut % proof.length)
              : [...proof.slice(0, position), inserted, ...proof.slice(position)];
          assert.equal(verifyConsistency(tree.size1, tree.size2, root1, root2, changed), false);
        },
      ),
      { numRuns: 400 },
    );
  });

  test('is rejected when two proof elements are swapped', () => {
    fc.assert(
      fc.property(consistencyCase, fc.nat(), fc.nat(), (tree, a, b) => {
        const { root1, root2, proof } = consistencyFixture(tree);
        fc.pre(proof.length > 1);
        const i = a % proof.length;
        const j = b % proof.length;
        fc.pre(i !== j);
        const swapped = [...proof];
        [swapped[i], swapped[j]] = [proof[j]!, proof[i]!];
        assert.equal(verifyConsistency(tree.size1, tree.size2, root1, root2, swapped), false);
      }),
      { numRuns: 300 },
    );
  });

  test('is rejected with either root wrong or the roots swapped', () => {
    fc.assert(
      fc.property(consistencyCase, fc.uint8Array({ minLength: 32, maxLength: 32 }), (tree, random) => {
        const { leaves, root1, root2, proof } = consistencyFixture(tree);
        const other = Buffer.from(random);
        assert.equal(verifyConsistency(tree.size1, tree.size2, other, root2, proof), false);
        assert.equal(verifyConsistency(tree.size1, tree.size2, root1, other, proof), false);
        assert.equal(verifyConsistency(tree.size1, tree.size2, root2, root1, proof), false);
        assert.equal(
          verifyConsistency(tree.size1, tree.size2, rootOf(leaves.slice(0, tree.size1 - 1)), root2, proof),
          false,
        );
      }),
      { numRuns: 200 },
    );
  });

  test('is rejected, without throwing, when an element has the wrong length', () => {
    fc.assert(
      fc.property(consistencyCase, fc.nat(), fc.integer({ min: 0, max: 64 }), (tree, pick, length) => {
        fc.pre(length !== 32);
        const { root1, root2, proof } = consistencyFixture(tree);
        const i = pick % proof.length;
        const changed = proof.map((hash, j) =>
          j === i ? Buffer.concat([hash, Buffer.alloc(32)]).subarray(0, length) : hash,
        );
        assert.equal(verifyConsistency(tree.size1, tree.size2, root1, root2, changed), false);
      }),
      { numRuns: 200 },
    );
  });
});
