import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CompactRange } from '../../src/verify/compact-range.js';
import { EMPTY_ROOT, consistencyProof, inclusionProof, leafHash, rootOf } from '../../src/verify/merkle.js';
import type { NodeId } from '../../src/verify/subtree.js';
import {
  consistencyProofFrom,
  consistencyProofRanges,
  inclusionProofFrom,
  inclusionProofRanges,
  nodesCovering,
  perfectSubtreeHash,
  subtreeHashesFromNodes,
} from '../../src/verify/subtree.js';

const leavesOf = (count: number, seed = 0): Buffer[] =>
  Array.from({ length: count }, (_, i) => leafHash(Buffer.from(`leaf ${seed}/${i}`)));
const key = ({ level, index }: NodeId): string => `${level}/${index}`;

/** What a database table of completed subtrees would hold after appending these leaves. */
function store(leaves: Buffer[]): { nodes: Map<string, Buffer>; range: CompactRange } {
  const nodes = new Map<string, Buffer>();
  const range = new CompactRange();
  for (const hash of leaves) {
    range.append(hash, (node, value) => {
      assert.equal(nodes.has(key(node)), false, `node ${key(node)} reported twice`);
      nodes.set(key(node), value);
    });
  }
  return { nodes, range };
}

const lookup =
  (nodes: Map<string, Buffer>) =>
  (level: number, index: number): Buffer => {
    const value = nodes.get(`${level}/${index}`);
    if (!value) throw new Error(`node ${level}/${index} is not stored`);
    return value;
  };

const popcount = (n: number): number =>
  n
    .toString(2)
    .split('')
    .filter((bit) => bit === '1').length;

describe('a compact range', () => {
  test("starts at the empty tree's root", () => {
    const range = new CompactRange();
    assert.equal(range.size, 0);
    assert.deepEqual(range.root(), EMPTY_ROOT);
    assert.deepEqual(CompactRange.nodesOf(0), []);
  });

  test('has the reference root after every append, from 1 to 300 leaves, holding one hash per set bit of its size', () => {
    const leaves = leavesOf(300);
    const range = new CompactRange();
    leaves.forEach((hash, i) => {
      range.append(hash);
      assert.equal(range.size, i + 1);
      assert.deepEqual(range.root(), rootOf(leaves.slice(0, i + 1)), `root of ${i + 1} leaves`);
      assert.equal(range.hashes.length, popcount(i + 1));
    });
  });

  test('reports every complete subtree exactly once, with the hash its leaves give it', () => {
    const leaves = leavesOf(100);
    const { nodes } = store(leaves);
    let expectedCount = 0;
    for (let level = 0; 2 ** level <= leaves.length; level++) expectedCount += Math.floor(leaves.length / 2 ** level);
    assert.equal(nodes.size, expectedCount);
    for (const [name, hash] of nodes) {
      const [level, index] = name.split('/').map(Number) as [number, number];
      assert.deepEqual(hash, perfectSubtreeHash(leaves, level, index), `node ${name}`);
    }
  });

  test('resumes from its stored frontier nodes and reaches the same roots', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 100 }),
        fc.nat(),
        (before, after, seed) => {
          const leaves = leavesOf(before + after, seed);
          const { nodes, range } = store(leaves.slice(0, before));
          const frontier = CompactRange.nodesOf(before).map((node) => nodes.get(key(node))!);
          assert.deepEqual(frontier, range.hashes);
          const resumed = CompactRange.fromNodes(before, frontier);
          assert.deepEqual(resumed.root(), range.root());
          for (const hash of leaves.slice(before)) resumed.append(hash);
          assert.equal(resumed.size, before + after);
          assert.deepEqual(resumed.root(), rootOf(leaves));
        },
      ),
      { numRuns: 100 },
    );
  });

  test('refuses a frontier of the wrong length and leaf hashes that are not 32 bytes', () => {
    const leaves = leavesOf(6);
    assert.throws(() => CompactRange.fromNodes(6, [leaves[0]!]), RangeError);
    assert.throws(() => CompactRange.fromNodes(6, [leaves[0]!, leaves[1]!.subarray(1)]), TypeError);
    assert.throws(() => CompactRange.fromNodes(-1, []), RangeError);
    assert.throws(() => new CompactRange().append(Buffer.alloc(31)), TypeError);
  });
});

describe('proofs from stored subtrees', () => {
  test('ask only for complete subtrees and ranges on the right edge of the tree being proven', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.nat(), fc.nat(), (size, a, b) => {
        const index = a % size;
        const old = b % (size + 1);
        for (const { start, end } of [...inclusionProofRanges(index, size), ...consistencyProofRanges(old, size)]) {
          const width = end - start;
          const complete = Number.isInteger(Math.log2(width)) && start % width === 0;
          assert.ok(complete || end === size, `range ${start}..${end} in a tree of ${size}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('read O(log n) stored nodes, all of them complete subtrees', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }), fc.nat(), fc.nat(), (size, a, b) => {
        const leaves = leavesOf(size);
        const { nodes } = store(leaves);
        const reads: string[] = [];
        const counted = subtreeHashesFromNodes((level, index) => {
          reads.push(`${level}/${index}`);
          return lookup(nodes)(level, index);
        });
        const bound = 2 * Math.ceil(Math.log2(size)) + 1;
        assert.deepEqual(inclusionProofFrom(a % size, size, counted), inclusionProof(leaves, a % size));
        assert.ok(reads.length <= bound, `${reads.length} reads for an inclusion proof in ${size} leaves`);
        reads.length = 0;
        const old = 1 + (b % (size - 1));
        assert.deepEqual(consistencyProofFrom(old, size, counted), consistencyProof(leaves, old));
        assert.ok(reads.length <= 2 * bound, `${reads.length} reads for a consistency proof ${old} -> ${size}`);
      }),
      { numRuns: 200 },
    );
  });

  test('can be built by an asynchronous caller that fetches every node it needs first', async () => {
    const leaves = leavesOf(77);
    const { nodes } = store(leaves);
    const fetchNodes = async (wanted: NodeId[]): Promise<Map<string, Buffer>> =>
      new Map(wanted.map((node) => [key(node), nodes.get(key(node))!]));
    const ranges = consistencyProofRanges(21, 77);
    const fetched = await fetchNodes(ranges.flatMap(({ start, end }) => nodesCovering(start, end)));
    assert.deepEqual(
      consistencyProofFrom(21, 77, subtreeHashesFromNodes(lookup(fetched))),
      consistencyProof(leaves, 21),
    );
  });

  test('give any range of leaves the root of that sub-list, even unaligned ones', () => {
    const leaves = leavesOf(130);
    const hashes = subtreeHashesFromNodes(lookup(store(leaves).nodes));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 129 }), fc.integer({ min: 1, max: 130 }), (start, width) => {
        const end = Math.min(130, start + width);
        assert.deepEqual(hashes(start, end), rootOf(leaves.slice(start, end)));
      }),
      { numRuns: 300 },
    );
  });

  test('refuse unaligned or missing subtrees, and storage that returns something other than a hash', () => {
    const leaves = leavesOf(8);
    assert.throws(() => perfectSubtreeHash(leaves, 2, 2), RangeError, 'leaves 8..11 do not exist');
    assert.throws(() => nodesCovering(3, 3), RangeError);
    assert.throws(() => inclusionProofRanges(8, 8), RangeError);
    assert.throws(() => consistencyProofRanges(9, 8), RangeError);
    const broken = subtreeHashesFromNodes(() => Buffer.from('not a hash'));
    assert.throws(() => inclusionProofFrom(3, 8, broken), TypeError);
  });
});
