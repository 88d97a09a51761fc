import { ChainVerifier } from './chain.js';
import type { ChainVerdict, Damage } from './chain.js';
import { CompactRange } from './compact-range.js';
import { GENESIS_HASH, HASH_BYTES } from './hash.js';
import { LifecycleChecker } from './lifecycle-check.js';
import type { RangeResult } from './range-check.js';
import { replayFacts } from './range-check.js';

/**
 * Joins the checks of consecutive seq ranges, taken in order, into the verdict ChainVerifier would
 * give for the whole chain: each range's first row is checked again here against the head so far
 * (so a gap across ranges, or a link cut at a boundary, is named as the sequential check names it),
 * the ranges' lifecycle facts run through one lifecycle check, and the Merkle tree is rebuilt
 * from the ranges' leaf hashes for the sizes checkpoints claim.
 */
export class ChainStitcher {
  private expectedSeq = 1;
  private lastHash: Buffer = GENESIS_HASH;
  private count = 0;
  private damage: Damage | null = null;
  private readonly lifecycle = new LifecycleChecker();
  private readonly tree: CompactRange | null;
  readonly roots = new Map<number, Buffer>();

  constructor(
    readonly chainId: string,
    private readonly rootsAt: ReadonlySet<number> = new Set(),
  ) {
    this.tree = rootsAt.size ? new CompactRange() : null;
    if (this.tree && rootsAt.has(0)) this.roots.set(0, this.tree.root());
  }

  get records(): number {
    return this.count;
  }

  /** Takes the next range's result; true once damage is found (later ranges no longer matter). */
  accept(result: RangeResult): boolean {
    if (this.damage) return true;
    if (!result.first) return false;
    const edge = new ChainVerifier(this.chainId, { seq: this.expectedSeq - 1, hash: this.lastHash }, () => {});
    this.damage = edge.push(result.first);
    if (this.damage) return true;
    replayFacts(result.facts, this.lifecycle);
    if (result.leaves) this.appendLeaves(result.leaves);
    this.count += result.records;
    if (result.head) {
      this.expectedSeq = result.head.seq + 1;
      this.lastHash = Buffer.from(result.head.hash);
    }
    this.damage = result.damage;
    return this.damage !== null;
  }

  verdict(): ChainVerdict & { roots: Map<number, Buffer> } {
    return {
      chainId: this.chainId,
      ok: this.damage === null,
      records: this.count,
      head: this.expectedSeq > 1 ? { seq: this.expectedSeq - 1, hash: this.lastHash } : null,
      damage: this.damage,
      illegalPaths: this.lifecycle.findings,
      roots: this.roots,
    };
  }

  private appendLeaves(leaves: Uint8Array): void {
    const bytes = Buffer.from(leaves.buffer, leaves.byteOffset, leaves.byteLength);
    for (let offset = 0; offset < bytes.length; offset += HASH_BYTES) {
      this.tree!.append(bytes.subarray(offset, offset + HASH_BYTES));
      if (this.rootsAt.has(this.tree!.size)) this.roots.set(this.tree!.size, this.tree!.root());
    }
  }
}
