import { isHash, nodeHash } from './merkle.js';
import { inclusionProofRanges } from './subtree.js';
import { isTreeSize } from './tree-math.js';

/** One record's claim: its leaf hash is at `index`, and `proof` is PATH(index, D[size]) from the leaf's sibling up. */
export interface InclusionClaim {
  leaf: Uint8Array;
  index: number;
  proof: readonly Uint8Array[];
}

/** A node hashing already done: `child` at a position, with `sibling` beside it, gave `parent`. */
interface Hashed {
  child: Uint8Array;
  sibling: Uint8Array;
  parent: Buffer;
}

/**
 * RFC 9162 §2.1.3.2 for many leaves of one tree, each answered on its own exactly as
 * verifyInclusion would answer it: a wrong proof fails only its own record, so a finding can name
 * the record. The records of one bundle share most of their paths (ten thousand records of one
 * trace at a million leaves share all but their lowest few levels), so each node hashing is kept by
 * the position of its child: a later proof that reaches the same position with the same value and
 * the same sibling gets the parent without hashing again. It is a cache of a pure function, keyed by
 * every input, so it cannot make a false proof pass.
 */
export function verifyInclusions(claims: readonly InclusionClaim[], treeSize: number, root: Uint8Array): boolean[] {
  const done = new Map<string, Hashed>();
  return claims.map((claim) => verifyOne(claim, treeSize, root, done));
}

function verifyOne(claim: InclusionClaim, treeSize: number, root: Uint8Array, done: Map<string, Hashed>): boolean {
  const { leaf, index, proof } = claim;
  if (!isHash(leaf) || !isHash(root) || !isTreeSize(index) || !isTreeSize(treeSize) || index >= treeSize) return false;
  if (!Array.isArray(proof) || !proof.every(isHash)) return false;
  // The path's shape follows from index and size alone; a proof of any other length is not PATH(index, D[size]).
  const siblings = inclusionProofRanges(index, treeSize);
  if (proof.length !== siblings.length) return false;
  let start = index;
  let end = index + 1;
  let value: Uint8Array = leaf;
  for (let i = 0; i < siblings.length; i++) {
    const range = siblings[i]!;
    const sibling = proof[i]!;
    const key = `${start}:${end}`;
    const before = done.get(key);
    let parent: Buffer;
    if (before && equal(before.child, value) && equal(before.sibling, sibling)) {
      parent = before.parent;
    } else {
      parent = range.end <= start ? nodeHash(sibling, value) : nodeHash(value, sibling);
      done.set(key, { child: value, sibling, parent });
    }
    value = parent;
    start = Math.min(start, range.start);
    end = Math.max(end, range.end);
  }
  return equal(value, root);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || Buffer.compare(a, b) === 0;
}
