import { parseCheckpoint, verifyCheckpoint } from './checkpoint.js';
import type { CheckpointFailure } from './checkpoint.js';
import type { VerifierKey } from './note.js';
import { anchorKeyFindings, anchorLags, describeLag } from './anchor-audit.js';
import type { AnchorFindingCode, AnchorKeyEvent, AnchorLag } from './anchor-audit.js';

export interface CheckpointSource {
  size: number;
  note: string;
  /** `ledger` for the ledger's own table, else the anchor sink's name. */
  source: string;
  /** The anchor this copy came from, when `source` names more than the anchor (an S3 key's later version). */
  anchor?: string;
}

export type CheckpointDamageKind =
  'truncated' | 'rewritten' | 'bad_checkpoint' | 'checkpoint_missing' | 'anchor_tampered';

/** What tools and tests branch on; `kind` is the older, coarser name `writ verify` prints. */
export type CheckpointFindingCode =
  | 'RECORDS_TRUNCATED'
  | 'CHAIN_REWRITTEN'
  | 'CHECKPOINT_MISSING'
  | 'CHECKPOINT_SIZE_MISMATCH'
  | CheckpointProblemCode
  | AnchorFindingCode;

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
  /** Anchors whose newest checkpoint is older than the ledger's newest. */
  lagging: AnchorLag[];
}

interface AuditInput {
  chainId: string;
  origin: string;
  records: number;
  roots: ReadonlyMap<number, Buffer>;
  checkpoints: readonly CheckpointSource[];
  key: VerifierKey | null;
  /** The configured anchors' names; none: checkpoints are compared with the records only. */
  anchors: readonly string[];
  /** What versioned anchors saw happen to checkpoint keys after their first write. */
  anchorEvents?: readonly AnchorKeyEvent[];
}

/** What one checkpoint shows: damage, a warning, or that it vouches for the chain up to its size. */
type CheckpointOutcome = { damage: CheckpointFinding } | { warning: string } | { verified: true };

/**
 * Pure: compares what the records say (their count and the Merkle roots recomputed from them)
 * with every checkpoint the ledger and the anchors hold. A record cut off the end shows as a
 * checkpoint larger than the chain; a chain rewritten with fresh hashes as a root that differs.
 */
export function auditCheckpoints(input: AuditInput): CheckpointAudit {
  const damage: CheckpointFinding[] = [];
  const warnings: string[] = [];
  const bySize = new Map<number, string[]>();
  for (const checkpoint of input.checkpoints) {
    const outcome = auditCheckpoint(checkpoint, input);
    if ('damage' in outcome) damage.push(outcome.damage);
    else if ('warning' in outcome) warnings.push(outcome.warning);
    else bySize.set(checkpoint.size, [...(bySize.get(checkpoint.size) ?? []), checkpoint.source]);
  }
  const lagging = anchorLags(input.anchors, input.checkpoints);
  if (input.anchors.length) {
    const anchoring = auditAnchoring(input.checkpoints);
    damage.push(...anchoring.damage, ...anchorKeyFindings(input.anchorEvents ?? []));
    warnings.push(...anchoring.warnings, ...lagging.map(describeLag));
  }
  const latestSize = Math.max(-1, ...bySize.keys());
  return {
    checked: input.checkpoints.length,
    signaturesChecked: input.key !== null,
    latest: latestSize >= 0 ? { size: latestSize, sources: bySize.get(latestSize)! } : null,
    damage: damage.sort((a, b) => a.size - b.size),
    warnings,
    lagging,
  };
}

/** One checkpoint against the records: its signature (given a key), its size, and its root. */
function auditCheckpoint(checkpoint: CheckpointSource, input: AuditInput): CheckpointOutcome {
  const { size, source } = checkpoint;
  const read = readCheckpoint(checkpoint, input);
  if ('code' in read) return { damage: read };
  const { root, claimed } = read;
  if (claimed !== size)
    return {
      damage: {
        code: 'CHECKPOINT_SIZE_MISMATCH',
        kind: 'bad_checkpoint',
        size,
        source,
        detail: `filed under size ${size} but says ${claimed}`,
      },
    };
  if (size > input.records)
    return {
      damage: {
        code: 'RECORDS_TRUNCATED',
        kind: 'truncated',
        size,
        source,
        detail: `checkpoint from ${source} covers ${size} records but chain ${input.chainId} has ${input.records}: records after ${input.records} are gone`,
      },
    };
  const computed = input.roots.get(size);
  if (!computed) return { warning: `no root was computed for size ${size}` };
  if (!computed.equals(root))
    return {
      damage: {
        code: 'CHAIN_REWRITTEN',
        kind: 'rewritten',
        size,
        source,
        detail: `records 1..${size} do not hash to the root ${root.toString('base64')} that ${source} holds: the chain was rewritten`,
      },
    };
  return { verified: true };
}

/** The checkpoint's root and size: verified when there is a key, else only parsed. */
function readCheckpoint(
  { size, note, source }: CheckpointSource,
  input: AuditInput,
): { root: Buffer; claimed: number } | CheckpointFinding {
  if (input.key) {
    const verdict = verifyCheckpoint(note, input.key, { origin: input.origin });
    if (!verdict.ok)
      return {
        code: checkpointProblemCode(verdict.code),
        kind: 'bad_checkpoint',
        size,
        source,
        detail: `${verdict.code}: ${verdict.reason}`,
      };
    return { root: verdict.checkpoint.root, claimed: verdict.checkpoint.size };
  }
  try {
    const { root, size: claimed } = parseCheckpoint(note).checkpoint;
    return { root, claimed };
  } catch (error) {
    return { code: 'CHECKPOINT_MALFORMED', kind: 'bad_checkpoint', size, source, detail: (error as Error).message };
  }
}

/** Every anchored checkpoint is in the ledger's own table too; a ledger checkpoint no anchor holds only warns. */
function auditAnchoring(checkpoints: readonly CheckpointSource[]): {
  damage: CheckpointFinding[];
  warnings: string[];
} {
  const damage: CheckpointFinding[] = [];
  const warnings: string[] = [];
  const anchoredSizes = new Set(checkpoints.filter((c) => c.source !== 'ledger').map((c) => c.size));
  const ledgerSizes = new Set(checkpoints.filter((c) => c.source === 'ledger').map((c) => c.size));
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
  return { damage, warnings };
}
