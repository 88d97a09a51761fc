import { parseCheckpoint, verifyCheckpoint } from './checkpoint.js';
import type { CheckpointFailure } from './checkpoint.js';
import type { VerifierKey } from './note.js';

export interface CheckpointSource {
  size: number;
  note: string;
  /** `ledger` for the ledger's own table, else the anchor sink's name. */
  source: string;
}

export type CheckpointDamageKind = 'truncated' | 'rewritten' | 'bad_checkpoint' | 'checkpoint_missing';

/** What tools and tests branch on; `kind` is the older, coarser name `writ verify` prints. */
export type CheckpointFindingCode =
  'RECORDS_TRUNCATED' | 'CHAIN_REWRITTEN' | 'CHECKPOINT_MISSING' | 'CHECKPOINT_SIZE_MISMATCH' | CheckpointProblemCode;

/** A checkpoint that does not parse or verify, by the reason its verdict gives. */
export type CheckpointProblemCode =
  'CHECKPOINT_MALFORMED' | 'CHECKPOINT_UNKNOWN_KEY' | 'CHECKPOINT_SIGNATURE_INVALID' | 'CHECKPOINT_WRONG_ORIGIN';

const CHECKPOINT_PROBLEM: Record<CheckpointFailure, CheckpointProblemCode> = {
  MALFORMED: 'CHECKPOINT_MALFORMED',
  UNKNOWN_KEY: 'CHECKPOINT_UNKNOWN_KEY',
  BAD_SIGNATURE: 'CHECKPOINT_SIGNATURE_INVALID',
  WRONG_ORIGIN: 'CHECKPOINT_WRONG_ORIGIN',
};

export function checkpointProblemCode(failure: CheckpointFailure): CheckpointProblemCode {
  return CHECKPOINT_PROBLEM[failure];
}

export interface CheckpointFinding {
  code: CheckpointFindingCode;
  kind: CheckpointDamageKind;
  size: number;
  source: string;
  detail: string;
}

export interface CheckpointAudit {
  checked: number;
  signaturesChecked: boolean;
  latest: { size: number; sources: string[] } | null;
  damage: CheckpointFinding[];
  warnings: string[];
}

/**
 * Pure: compares what the records say (their count and the Merkle roots recomputed from them)
 * with every checkpoint the ledger and the anchors hold. A record cut off the end shows as a
 * checkpoint larger than the chain; a chain rewritten with fresh hashes as a root that differs.
 */
export function auditCheckpoints(input: {
  chainId: string;
  origin: string;
  records: number;
  roots: ReadonlyMap<number, Buffer>;
  checkpoints: readonly CheckpointSource[];
  key: VerifierKey | null;
  anchored: boolean;
}): CheckpointAudit {
  const damage: CheckpointFinding[] = [];
  const warnings: string[] = [];
  const bySize = new Map<number, string[]>();
  for (const { size, note, source } of input.checkpoints) {
    let root: Buffer;
    let claimed: number;
    if (input.key) {
      const verdict = verifyCheckpoint(note, input.key, { origin: input.origin });
      if (!verdict.ok) {
        damage.push({
          code: checkpointProblemCode(verdict.code),
          kind: 'bad_checkpoint',
          size,
          source,
          detail: `${verdict.code}: ${verdict.reason}`,
        });
        continue;
      }
      ({ root, size: claimed } = verdict.checkpoint);
    } else {
      try {
        ({ root, size: claimed } = parseCheckpoint(note).checkpoint);
      } catch (error) {
        damage.push({
          code: 'CHECKPOINT_MALFORMED',
          kind: 'bad_checkpoint',
          size,
          source,
          detail: (error as Error).message,
        });
        continue;
      }
    }
    if (claimed !== size) {
      damage.push({
        code: 'CHECKPOINT_SIZE_MISMATCH',
        kind: 'bad_checkpoint',
        size,
        source,
        detail: `filed under size ${size} but says ${claimed}`,
      });
      continue;
    }
    if (size > input.records) {
      damage.push({
        code: 'RECORDS_TRUNCATED',
        kind: 'truncated',
        size,
        source,
        detail: `checkpoint from ${source} covers ${size} records but chain ${input.chainId} has ${input.records}: records after ${input.records} are gone`,
      });
      continue;
    }
    const computed = input.roots.get(size);
    if (!computed) {
      warnings.push(`no root was computed for size ${size}`);
      continue;
    }
    if (!computed.equals(root)) {
      damage.push({
        code: 'CHAIN_REWRITTEN',
        kind: 'rewritten',
        size,
        source,
        detail: `records 1..${size} do not hash to the root ${root.toString('base64')} that ${source} holds: the chain was rewritten`,
      });
      continue;
    }
    bySize.set(size, [...(bySize.get(size) ?? []), source]);
  }
  if (input.anchored) {
    const anchoredSizes = new Set(input.checkpoints.filter((c) => c.source !== 'ledger').map((c) => c.size));
    const ledgerSizes = new Set(input.checkpoints.filter((c) => c.source === 'ledger').map((c) => c.size));
    for (const size of anchoredSizes) {
      if (!ledgerSizes.has(size))
        damage.push({
          code: 'CHECKPOINT_MISSING',
          kind: 'checkpoint_missing',
          size,
          source: 'ledger',
          detail: `an anchor holds checkpoint ${size} that the ledger's own table does not`,
        });
    }
    for (const size of ledgerSizes)
      if (!anchoredSizes.has(size)) warnings.push(`checkpoint ${size} is not anchored anywhere`);
  }
  const latestSize = Math.max(-1, ...bySize.keys());
  return {
    checked: input.checkpoints.length,
    signaturesChecked: input.key !== null,
    latest: latestSize >= 0 ? { size: latestSize, sources: bySize.get(latestSize)! } : null,
    damage: damage.sort((a, b) => a.size - b.size),
    warnings,
  };
}
