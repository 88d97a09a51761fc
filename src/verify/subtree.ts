import { HASH_BYTES } from './hash.js';
import { EMPTY_ROOT, isHash, nodeHash } from './merkle.js';
import { isPowerOfTwo, isTreeSize, largestPowerOfTwoBelow } from './tree-math.js';

/**
 * Roots and proofs from stored subtree hashes instead of every leaf, so a database-backed log can
 * answer in O(log n) reads. Same RFC 9162 trees as merkle.ts, which is the reference these are
 * tested against.
 *
 * A complete subtree is addressed as a node (level, index): the 2^level leaves starting at leaf
 * index·2^level. Its hash never changes once its last leaf exists, so it can be stored the moment
 * it is completed (CompactRange.append reports each one) and read back by key later.
 *
 * The builders are synchronous: an asynchronous caller first asks which ranges a proof needs
 * (inclusionProofRanges, consistencyProofRanges) and which stored nodes those ranges need
 * (nodesCovering), fetches them in one go, then builds the proof from what it fetched.
 */
export interface NodeId {
  level: number;
  index: number;
}

/** The leaves [start, end), end exclusive. */
export interface LeafRange {
  start: number;
  end: number;
}

/** The stored hash of the complete subtree (level, index). */
export type NodeHashes = (level: number, index: number) => Uint8Array;

/**
 * MTH(D[start:end]) for 0 <= start < end. The builders below only ever ask for ranges that are
 * nodes of the tree being proven: complete subtrees, and ranges [start, size) along its right edge
 * whose hash changes as the tree grows (and so is never stored, only derived).
 */
export type SubtreeHashes = (start: number, end: number) => Uint8Array;

/** The hash of the complete subtree (level, index), computed from the leaves' hashes. */
export function perfectSubtreeHash(leafHashes: readonly Uint8Array[], level: number, index: number): Buffer {
  if (!isTreeSize(level) || !isTreeSize(index)) throw new RangeError(`(${level}, ${index}) is not a node`);
  const width = 2 ** level;
  const start = index * width;
  if (start + width > leafHashes.length) {
    throw new RangeError(
      `node (${level}, ${index}) needs leaves ${start}..${start + width - 1} but there are ${leafHashes.length}`,
    );
  }
  let layer = leafHashes.slice(start, start + width).map((hash, i) => checkedHash(hash, `leaf ${start + i}`));
  while (layer.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < layer.length; i += 2) next.push(nodeHash(layer[i]!, layer[i + 1]!));
    layer = next;
  }
  return layer[0]!;
}

/**
 * The stored nodes whose hashes determine MTH(D[start:end]), left to right; O(log n) of them for a
 * node of the tree.
 */
export function nodesCovering(start: number, end: number): NodeId[] {
  checkRange(start, end);
  const nodes: NodeId[] = [];
  const visit = (from: number, to: number): void => {
    const width = to - from;
    if (isPowerOfTwo(width) && from % width === 0) {
      nodes.push({ level: levelOf(width), index: from / width });
      return;
    }
    const k = largestPowerOfTwoBelow(width);
    visit(from, from + k);
    visit(from + k, to);
  };
  visit(start, end);
  return nodes;
}

/** Answers any range from stored complete subtrees alone, hashing together the ones nodesCovering names. */
export function subtreeHashesFromNodes(node: NodeHashes): SubtreeHashes {
  const rangeHash = (start: number, end: number): Buffer => {
    const width = end - start;
    if (isPowerOfTwo(width) && start % width === 0) {
      const level = levelOf(width);
      return checkedHash(node(level, start / width), `node (${level}, ${start / width})`);
    }
    const k = largestPowerOfTwoBelow(width);
    return nodeHash(rangeHash(start, start + k), rangeHash(start + k, end));
  };
  return (start, end) => {
    checkRange(start, end);
    return rangeHash(start, end);
  };
}

/** Answers any range from the full list of leaf hashes: for tests and small trees. */
export function subtreeHashesFromLeaves(leafHashes: readonly Uint8Array[]): SubtreeHashes {
  return subtreeHashesFromNodes((level, index) => perfectSubtreeHash(leafHashes, level, index));
}

/** MTH of the first `size` leaves. */
export function rootFrom(size: number, hashes: SubtreeHashes): Buffer {
  if (!isTreeSize(size)) throw new RangeError(`${size} is not a tree size`);
  return size === 0 ? Buffer.from(EMPTY_ROOT) : checkedHash(hashes(0, size), `range 0..${size}`);
}

/** The ranges whose hashes make up PATH(index, D[size]) (RFC 9162 §2.1.3.1), in proof order. */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  if (!isTreeSize(index) || !isTreeSize(size) || index >= size)
    throw new RangeError(`leaf index ${index} is not in a tree of ${size} leaves`);
  const ranges: LeafRange[] = [];
  const path = (m: number, start: number, end: number): void => {
    const n = end - start;
    if (n === 1) return;
    const k = largestPowerOfTwoBelow(n);
    if (m < k) {
      path(m, start, start + k);
      ranges.push({ start: start + k, end });
    } else {
      path(m - k, start + k, end);
      ranges.push({ start, end: start + k });
    }
  };
  path(index, 0, size);
  return ranges;
}

/** The ranges whose hashes make up PROOF(m, D[size]) (RFC 9162 §2.1.4.1), in proof order; none when m is 0 or size. */
export function consistencyProofRanges(m: number, size: number): LeafRange[] {
  if (!isTreeSize(m) || !isTreeSize(size) || m > size)
    throw new RangeError(`old size ${m} is not between 0 and the tree size ${size}`);
  const ranges: LeafRange[] = [];
  const subproof = (old: number, start: number, end: number, complete: boolean): void => {
    const n = end - start;
    if (old === n) {
      if (!complete) ranges.push({ start, end });
      return;
    }
    const k = largestPowerOfTwoBelow(n);
    if (old <= k) {
      subproof(old, start, start + k, complete);
      ranges.push({ start: start + k, end });
    } else {
      subproof(old - k, start + k, end, false);
      ranges.push({ start, end: start + k });
    }
  };
  if (m > 0 && m < size) subproof(m, 0, size, true);
  return ranges;
}

export function inclusionProofFrom(index: number, size: number, hashes: SubtreeHashes): Buffer[] {
  return inclusionProofRanges(index, size).map(({ start, end }) =>
    checkedHash(hashes(start, end), `range ${start}..${end}`),
  );
}

export function consistencyProofFrom(m: number, size: number, hashes: SubtreeHashes): Buffer[] {
  return consistencyProofRanges(m, size).map(({ start, end }) =>
    checkedHash(hashes(start, end), `range ${start}..${end}`),
  );
}

/** log2 of a power of two. */
function levelOf(width: number): number {
  let level = 0;
  for (let w = width; w > 1; w /= 2) level++;
  return level;
}

function checkRange(start: number, end: number): void {
  if (!isTreeSize(start) || !isTreeSize(end) || start >= end)
    throw new RangeError(`${start}..${end} is not a non-empty range of leaves`);
}

/** Storage is trusted but not infallible: a missing or mistyped hash must not become a proof that fails far away. */
function checkedHash(value: Uint8Array, what: string): Buffer {
  if (!isHash(value)) throw new TypeError(`the hash of ${what} is not ${HASH_BYTES} bytes`);
  return Buffer.from(value);
}
