import { createHash, hash } from 'node:crypto';
import { HASH_BYTES, sha256OfBoth } from './hash.js';
import { half, isOdd, isPowerOfTwo, isTreeSize, largestPowerOfTwoBelow } from './tree-math.js';

/**
 * Merkle trees exactly as RFC 9162 §2.1 (Certificate Transparency v2, same tree as RFC 6962)
 * defines them, with SHA-256. Using the standard tree rather than a variant means any CT or
 * tlog tool can check Writ's checkpoints, and the published test vectors apply unchanged.
 *
 * Everything here is pure and synchronous. The builders take the full list of leaf hashes: they
 * are the reference the faster, storage-backed builders in subtree.ts are tested against. The
 * verifiers take untrusted proofs and answer false, never throw, whatever they are given.
 */

/** The 0x00 / 0x01 prefixes keep a leaf from ever being passed off as an interior node. */
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}) = SHA-256 of the empty string: the root of the empty tree. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** MTH({d}) = SHA-256(0x00 || d). */
export function leafHash(data: Uint8Array): Buffer {
  return sha256OfBoth(LEAF_PREFIX, data);
}

// A bundle of ten thousand proofs, or a tree over a million leaves, hashes hundreds of thousands of
// 65-byte nodes; a Hash object per node costs about as much as the hashing, so two 32-byte hashes
// are copied into one reused input and hashed in one call (synchronous: nothing else can touch the
// input in between).
const nodeInput = Buffer.concat([NODE_PREFIX, Buffer.alloc(2 * HASH_BYTES)]);

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_BYTES || right.length !== HASH_BYTES)
    return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_BYTES);
  return hash('sha256', nodeInput, 'buffer');
}

/** MTH(D[n]) from the leaves' hashes (not their data). */
export function rootOf(leafHashes: readonly Uint8Array[]): Buffer {
  checkLeafHashes(leafHashes);
  return leafHashes.length === 0 ? Buffer.from(EMPTY_ROOT) : mth(leafHashes, 0, leafHashes.length);
}

/** PATH(index, D[n]) of RFC 9162 §2.1.3.1, ordered from the leaf's sibling up to the root's child. */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number): Buffer[] {
  checkLeafHashes(leafHashes);
  if (!isTreeSize(index) || index >= leafHashes.length) {
    throw new RangeError(`leaf index ${index} is not in a tree of ${leafHashes.length} leaves`);
  }
  const path: Buffer[] = [];
  collectPath(leafHashes, index, 0, leafHashes.length, path);
  return path;
}

/**
 * PROOF(m, D[n]) of RFC 9162 §2.1.4.1: that the tree of the first m leaves is a prefix of this
 * one. For m = 0 and m = n there is nothing to prove and the proof is empty (the RFC defines PROOF
 * only for 0 < m < n; verifyConsistency accepts exactly these empty proofs).
 */
export function consistencyProof(leafHashes: readonly Uint8Array[], m: number): Buffer[] {
  checkLeafHashes(leafHashes);
  const n = leafHashes.length;
  if (!isTreeSize(m) || m > n) throw new RangeError(`old size ${m} is not between 0 and the tree size ${n}`);
  const proof: Buffer[] = [];
  if (m > 0 && m < n) collectSubproof(leafHashes, m, 0, n, true, proof);
  return proof;
}

/**
 * RFC 9162 §2.1.3.2, step by step. The index and size come from whoever hands over the proof,
 * so they are checked like the proof itself. The check is only as good as the root: a root is
 * bound to its size by a signed checkpoint, never by the proof (for some sizes the same path
 * is valid in a smaller and a larger tree).
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isHash(leaf) || !isHash(root) || !isTreeSize(index) || !isTreeSize(treeSize) || !isHashList(proof)) return false;
  if (index >= treeSize) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(root);
}

/**
 * RFC 9162 §2.1.4.2, plus the cases the RFC leaves out because there is nothing to prove: equal
 * sizes (same root, empty proof) and an old size of 0 (the old root must be the empty tree's,
 * empty proof). Anything else needs 0 < size1 < size2 and a non-empty proof.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!isTreeSize(size1) || !isTreeSize(size2) || !isHash(root1) || !isHash(root2) || !isHashList(proof)) return false;
  if (size1 > size2) return false;
  if (size1 === 0) return proof.length === 0 && EMPTY_ROOT.equals(root1) && (size2 > 0 || EMPTY_ROOT.equals(root2));
  if (size1 === size2) return proof.length === 0 && Buffer.from(root1).equals(root2);
  if (proof.length === 0) return false;

  // A power-of-two old tree is a complete left subtree of the new one, so its root is the seed
  // the proof leaves out.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(root1) && sr.equals(root2);
}

/** A SHA-256 value: proof elements, leaf hashes and roots are all exactly this. */
export function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_BYTES;
}

function isHashList(value: unknown): value is readonly Uint8Array[] {
  return Array.isArray(value) && value.every(isHash);
}

function checkLeafHashes(leafHashes: readonly Uint8Array[]): void {
  const bad = leafHashes.findIndex((hash) => !isHash(hash));
  if (bad >= 0) throw new RangeError(`leaf hash ${bad} is not ${HASH_BYTES} bytes`);
}

/** MTH(D[start:end]) for end > start, by the RFC's recursion. */
function mth(leaves: readonly Uint8Array[], start: number, end: number): Buffer {
  const n = end - start;
  if (n === 1) return Buffer.from(leaves[start]!);
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(mth(leaves, start, start + k), mth(leaves, start + k, end));
}

function collectPath(leaves: readonly Uint8Array[], m: number, start: number, end: number, out: Buffer[]): void {
  const n = end - start;
  if (n === 1) return;
  const k = largestPowerOfTwoBelow(n);
  if (m < k) {
    collectPath(leaves, m, start, start + k, out);
    out.push(mth(leaves, start + k, end));
  } else {
    collectPath(leaves, m - k, start + k, end, out);
    out.push(mth(leaves, start, start + k));
  }
}

/** SUBPROOF(m, D[start:end], complete): `complete` is the RFC's b, true while D[0:m] is a whole subtree seen so far. */
function collectSubproof(
  leaves: readonly Uint8Array[],
  m: number,
  start: number,
  end: number,
  complete: boolean,
  out: Buffer[],
): void {
  const n = end - start;
  if (m === n) {
    if (!complete) out.push(mth(leaves, start, end));
    return;
  }
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) {
    collectSubproof(leaves, m, start, start + k, complete, out);
    out.push(mth(leaves, start + k, end));
  } else {
    collectSubproof(leaves, m - k, start + k, end, false, out);
    out.push(mth(leaves, start, start + k));
  }
}
