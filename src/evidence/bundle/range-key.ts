import type { LeafRange } from '../../verify/subtree.js';

const EXACT_KEY_LIMIT = 2 ** 47;

/**
 * A key for a subtree of one tree: its first leaf and the bit length of its width, as one number.
 * The subtrees that start at one leaf are each the left child of the one before, at most twice its
 * width, so no two have the same bit length. A number rather than a "start/end" text: a trace's ten
 * thousand paths of twenty ranges made that many strings to build and hash (BENCHMARKS.md, P5).
 * Past 2^47 leaves the product would no longer be exact, and the text is used.
 */
export function rangeKey({ start, end }: LeafRange): number | string {
  if (start >= EXACT_KEY_LIMIT) return `${start}/${end}`;
  let bits = 0;
  for (let width = end - start - 1; width > 0; width = Math.floor(width / 2)) bits++;
  return start * 64 + bits;
}
