import { HASH_BYTES } from './hash.js';
import { EMPTY_ROOT, isHash, nodeHash } from './merkle.js';
import type { NodeId } from './subtree.js';
import { nodesCovering } from './subtree.js';
import { half, isOdd, isTreeSize } from './tree-math.js';

/**
 * The right edge of an append-only RFC 9162 tree: the roots of the complete subtrees that tile
 * leaves [0, size), one per set bit of size, largest (leftmost) first. That is all it takes to
 * compute the current root and to keep appending, so a writer holds O(log n) hashes instead of
 * re-reading every leaf for each checkpoint.
 */
export class CompactRange {
  private readonly roots: Buffer[] = [];
  private count = 0;

  /**
   * Resumes from stored state: `hashes` are the hashes of CompactRange.nodesOf(size), in that
   * order. They are taken on trust; a wrong one shows up as a root that no checkpoint matches.
   */
  static fromNodes(size: number, hashes: readonly Uint8Array[]): CompactRange {
    if (!isTreeSize(size)) throw new RangeError(`${size} is not a tree size`);
    const expected = size === 0 ? 0 : nodesCovering(0, size).length;
    if (hashes.length !== expected)
      throw new RangeError(`a tree of ${size} leaves has ${expected} frontier nodes, not ${hashes.length}`);
    const range = new CompactRange();
    hashes.forEach((hash, i) => {
      if (!isHash(hash)) throw new TypeError(`frontier hash ${i} is not ${HASH_BYTES} bytes`);
      range.roots.push(Buffer.from(hash));
    });
    range.count = size;
    return range;
  }

  /** The complete subtrees whose hashes fromNodes needs to resume at `size`, left to right. */
  static nodesOf(size: number): NodeId[] {
    if (!isTreeSize(size)) throw new RangeError(`${size} is not a tree size`);
    return size === 0 ? [] : nodesCovering(0, size);
  }

  get size(): number {
    return this.count;
  }

  /** Copies of the frontier hashes, in the order fromNodes takes them. */
  get hashes(): Buffer[] {
    return this.roots.map((hash) => Buffer.from(hash));
  }

  /**
   * Appends the next leaf's hash. `onNode` hears about every complete subtree the leaf finishes,
   * the leaf itself (level 0) first, then each parent it completes: exactly the hashes a store
   * needs to answer subtreeHashesFromNodes later, each reported once, when it becomes final.
   */
  append(leafHash: Uint8Array, onNode?: (node: NodeId, hash: Buffer) => void): void {
    if (!isHash(leafHash)) throw new TypeError(`a leaf hash is ${HASH_BYTES} bytes`);
    if (this.count >= Number.MAX_SAFE_INTEGER)
      throw new RangeError('the tree is as large as a JavaScript number can count');
    let hash: Buffer = Buffer.from(leafHash);
    let level = 0;
    let index = this.count;
    onNode?.({ level, index }, hash);
    // Appending is binary increment: each trailing 1 bit of the size is a subtree to merge with.
    for (let carry = this.count; isOdd(carry); carry = half(carry)) {
      hash = nodeHash(this.roots.pop()!, hash);
      level++;
      index = half(index);
      onNode?.({ level, index }, hash);
    }
    this.roots.push(hash);
    this.count++;
  }

  /** MTH of the leaves appended so far: the smaller subtrees fold into the larger ones from the right. */
  root(): Buffer {
    if (this.roots.length === 0) return Buffer.from(EMPTY_ROOT);
    let hash = this.roots[this.roots.length - 1]!;
    for (let i = this.roots.length - 2; i >= 0; i--) hash = nodeHash(this.roots[i]!, hash);
    return Buffer.from(hash);
  }
}
