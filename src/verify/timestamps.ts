import type * as pkijs from 'pkijs';
import type { CheckpointSource } from './audit.js';
import { TimestampError, checkToken, checkpointDigest, parseToken } from './timestamp-token.js';
import type { TimestampFindingCode } from './timestamp-token.js';

/** A checkpoint's token as the ledger or a bundle holds it: DER, and the size of the checkpoint it stamps. */
export interface CheckpointToken {
  size: number;
  token: Uint8Array;
}

export type TimestampCheckCode = TimestampFindingCode | 'TIMESTAMP_OUT_OF_ORDER' | 'TIMESTAMP_NO_CHECKPOINT';

export interface TimestampFinding {
  code: TimestampCheckCode;
  size: number;
  detail: string;
}

export interface TimestampAudit {
  /** Tokens found for the chain. */
  checked: number;
  /** False when no TSA certificate was pinned: imprints and order were checked, signatures not. */
  signaturesChecked: boolean;
  damage: TimestampFinding[];
  /** The newest checkpoint with a good token and its time. */
  latest: { size: number; genTime: string } | null;
  /**
   * With a pinned TSA: the ledger's checkpoints that carry no token. A warning, not damage: they
   * may predate the TSA, or it failed then; either way their time rests on the writer's clock.
   */
  unstamped: number[];
}

/**
 * Checks each stored token against the checkpoint it names: it must stamp that checkpoint's exact
 * bytes, be signed by the pinned TSA, and no token may be older than one for a smaller checkpoint
 * (a checkpoint cannot be signed before the one it extends).
 */
export async function auditTimestamps(
  stamps: readonly CheckpointToken[],
  checkpoints: readonly CheckpointSource[],
  pinned: pkijs.Certificate | null,
): Promise<TimestampAudit> {
  const damage: TimestampFinding[] = [];
  let latest: TimestampAudit['latest'] = null;
  let previous: { size: number; genTime: Date } | null = null;
  for (const stamp of [...stamps].sort((a, b) => a.size - b.size)) {
    const checkpoint =
      checkpoints.find((c) => c.size === stamp.size && c.source === 'ledger') ??
      checkpoints.find((c) => c.size === stamp.size);
    if (!checkpoint) {
      damage.push({
        code: 'TIMESTAMP_NO_CHECKPOINT',
        size: stamp.size,
        detail: 'a token for a checkpoint nobody holds',
      });
      continue;
    }
    let genTime: Date;
    try {
      const bytes = Buffer.from(checkpoint.note, 'utf8');
      genTime = pinned
        ? (await checkToken(stamp.token, bytes, pinned)).genTime
        : checkImprint(stamp.token, checkpointDigest(checkpoint.note));
    } catch (error) {
      if (!(error instanceof TimestampError)) throw error;
      damage.push({ code: error.code, size: stamp.size, detail: error.message });
      continue;
    }
    if (previous && genTime < previous.genTime) {
      damage.push({
        code: 'TIMESTAMP_OUT_OF_ORDER',
        size: stamp.size,
        detail: `stamped ${genTime.toISOString()}, before checkpoint ${previous.size}'s ${previous.genTime.toISOString()}`,
      });
      continue;
    }
    previous = { size: stamp.size, genTime };
    latest = { size: stamp.size, genTime: genTime.toISOString() };
  }
  const stampedSizes = new Set(stamps.map((s) => s.size));
  const unstamped = pinned
    ? checkpoints.filter((c) => c.source === 'ledger' && !stampedSizes.has(c.size)).map((c) => c.size)
    : [];
  return {
    checked: stamps.length,
    signaturesChecked: pinned !== null,
    damage,
    latest,
    unstamped: [...new Set(unstamped)].sort((a, b) => a - b),
  };
}

function checkImprint(token: Uint8Array, digest: Buffer): Date {
  const parsed = parseToken(token);
  if (!parsed.imprint.equals(digest))
    throw new TimestampError('TIMESTAMP_OTHER_BYTES', "the token stamps other bytes than the checkpoint's");
  return parsed.genTime;
}
