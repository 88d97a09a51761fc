import { isHash, nodeHash } from './merkle.js';
import { half, isOdd, isTreeSize } from './tree-math.js';

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
 * every input (the position fixes which side the sibling is on), so it cannot make a false proof
 * pass.
 */
export function verifyInclusions(claims: readonly InclusionClaim[], treeSize: number, root: Uint8Array): boolean[] {
  const done: Array<Map<number, Hashed>> = [];
  return claims.map((claim) => verifyOne(claim, treeSize, root, done));
}

/**
 * The RFC's walk: `fn` and `sn` are the positions of the value and of the tree's last node at the
 * current height, which `height` counts, so (height, fn) names the subtree the value stands for
 * (leaves fn * 2^height up to the next multiple, or the tree's end). Positions are numbers, one map
 * a height: a text key for each level of each proof cost more than the hashing it saved
 * (BENCHMARKS.md, P5).
 */
function verifyOne(
  claim: InclusionClaim,
  treeSize: number,
  root: Uint8Array,
  done: Array<Map<number, Hashed>>,
): boolean {
  const { leaf, index, proof } = claim;
  if (!isHash(leaf) || !isHash(root) || !isTreeSize(index) || !isTreeSize(treeSize) || index >= treeSize) return false;
  if (!Array.isArray(proof) || !proof.every(isHash)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let height = 0;
  let value: Uint8Array = leaf;
  for (const sibling of proof) {
    if (sn === 0) return false;
    const siblingOnLeft = isOdd(fn) || fn === sn;
    const at = (done[height] ??= new Map());
    const before = at.get(fn);
    let parent: Buffer;
    if (before && equal(before.child, value) && equal(before.sibling, sibling)) {
      parent = before.parent;
    } else {
      parent = siblingOnLeft ? nodeHash(sibling, value) : nodeHash(value, sibling);
      at.set(fn, { child: value, sibling, parent });
    }
    value = parent;
    if (siblingOnLeft)
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
        height++;
      }
    fn = half(fn);
    sn = half(sn);
    height++;
  }
  return sn === 0 && equal(value, root);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || Buffer.compare(a, b) === 0;
}
