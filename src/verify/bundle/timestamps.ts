import type * as pkijs from 'pkijs';
import type { CheckpointSource } from '../audit.js';
import { decodeBase64Strict } from '../base64.js';
import type { Checkpoint } from '../checkpoint.js';
import { verifyCheckpoint } from '../checkpoint.js';
import type { VerifierKey } from '../note.js';
import type { CheckpointToken } from '../timestamps.js';
import { auditTimestamps } from '../timestamps.js';
import { TIMESTAMPS } from './format.js';
import type { TimestampsFile } from './format.js';
import type { Bad } from './manifest.js';
import { isObject, isSeq, parseJson } from './parse.js';

export interface BundleTimestamps {
  /** Tokens timestamps.json carries. */
  tokens: number;
  /** True when a TSA certificate was pinned and the tokens' signatures were checked against it. */
  signaturesChecked: boolean;
  /** The authority's time for checkpoint.txt, when its token checked out. */
  checkpointGenTime: string | null;
}

/** checkpoint.txt as verified: its bytes and what they say. */
export interface VerifiedCheckpoint {
  note: string;
  checkpoint: Checkpoint;
}

/**
 * timestamps.json: each token stamps the SHA-256 of exactly its checkpoint's note (checkpoint.txt,
 * or an earlier checkpoint signed by the same key), is signed by the pinned TSA certificate, which
 * must be one for time-stamping and valid at the token's time, and no token is older than one for
 * a smaller checkpoint. With a TSA certificate pinned, a checkpoint without a token is damage: the
 * auditor asked for trusted time and the bundle has none. Without one, imprints and order are
 * checked and the verdict says signatures were not.
 */
export async function checkBundleTimestamps(
  files: ReadonlyMap<string, Uint8Array>,
  verified: VerifiedCheckpoint | null,
  key: VerifierKey | null,
  pinned: pkijs.Certificate | null,
  bad: Bad,
  warn: (message: string) => void,
): Promise<BundleTimestamps> {
  const summary: BundleTimestamps = { tokens: 0, signaturesChecked: pinned !== null, checkpointGenTime: null };
  const data = files.get(TIMESTAMPS);
  const file = data === undefined ? null : parseTimestampsFile(Buffer.from(data), bad);
  if (data !== undefined && !file) return summary;
  if (!verified || !key) {
    if (file) bad(TIMESTAMPS, 'TIMESTAMP_NO_CHECKPOINT', 'cannot be checked: there is no valid checkpoint');
    return summary;
  }
  const size = verified.checkpoint.size;
  if (file && file.checkpoint !== size)
    bad(TIMESTAMPS, 'TIMESTAMP_NO_CHECKPOINT', `names checkpoint ${file.checkpoint}, not checkpoint.txt's ${size}`);
  const { tokens, sources } = file ? stampedCheckpoints(file, verified, key, bad) : { tokens: [], sources: [] };
  summary.tokens = tokens.length;
  const audit = await auditTimestamps(tokens, sources, pinned);
  for (const d of audit.damage) bad(TIMESTAMPS, d.code, `checkpoint ${d.size}: ${d.detail}`);
  if (audit.latest?.size === size && !audit.damage.some((d) => d.size === size))
    summary.checkpointGenTime = audit.latest.genTime;
  if (!tokens.some((t) => t.size === size)) {
    const why = `checkpoint ${size} carries no time-stamp token${file?.unstamped ? ` (${file.unstamped})` : ''}, so its time rests on the writer's clock`;
    if (pinned)
      bad(
        TIMESTAMPS,
        'TIMESTAMP_MISSING',
        `${data === undefined ? 'missing: ' : ''}a TSA certificate was pinned, but ${why}`,
      );
    else if (file) warn(why);
  }
  if (tokens.length && !pinned)
    warn(
      `time-stamp not checked (no TSA certificate pinned): ${tokens.length} token(s) were checked to stamp their checkpoints' bytes, in order, but not who signed them; pin the authority's certificate with --tsa-cert`,
    );
  return summary;
}

/** The stamps whose notes are checkpoint.txt or an earlier checkpoint of the same log and key. */
function stampedCheckpoints(
  file: TimestampsFile,
  verified: VerifiedCheckpoint,
  key: VerifierKey,
  bad: Bad,
): { tokens: CheckpointToken[]; sources: CheckpointSource[] } {
  const tokens: CheckpointToken[] = [];
  const sources: CheckpointSource[] = [];
  const { origin, size } = verified.checkpoint;
  for (const stamp of file.stamps) {
    const token = decodeBase64Strict(stamp.token);
    if (!token) {
      bad(TIMESTAMPS, 'TIMESTAMP_MALFORMED', `checkpoint ${stamp.size}: the token is not standard base64`);
      continue;
    }
    let problem: string | null = null;
    if (stamp.size === size) {
      if (stamp.note !== verified.note) problem = 'the note it names is not checkpoint.txt';
    } else if (stamp.size > size) {
      problem = `it is beyond checkpoint.txt's ${size}`;
    } else {
      const earlier = verifyCheckpoint(stamp.note, key, { origin });
      if (!earlier.ok)
        problem = `the note it names is not a checkpoint of ${origin} signed by the key: ${earlier.reason}`;
      else if (earlier.checkpoint.size !== stamp.size) problem = `the note it names is at ${earlier.checkpoint.size}`;
    }
    if (problem) {
      bad(TIMESTAMPS, 'TIMESTAMP_NO_CHECKPOINT', `checkpoint ${stamp.size}: ${problem}`);
      continue;
    }
    tokens.push({ size: stamp.size, token });
    sources.push({ size: stamp.size, note: stamp.note, source: 'bundle' });
  }
  return { tokens, sources };
}

function parseTimestampsFile(data: Buffer, bad: Bad): TimestampsFile | null {
  const report = (problem: string): void => bad(TIMESTAMPS, 'TIMESTAMP_MALFORMED', problem);
  const value = parseJson(data, report);
  if (value === undefined) return null;
  const stamps = isObject(value) && Array.isArray(value.stamps) ? (value.stamps as unknown[]) : null;
  if (
    !isObject(value) ||
    !isSeq(value.checkpoint) ||
    !stamps ||
    (value.unstamped !== undefined && typeof value.unstamped !== 'string') ||
    !stamps.every((s) => isObject(s) && isSeq(s.size) && typeof s.note === 'string' && typeof s.token === 'string')
  ) {
    report('is not a time-stamps file (checkpoint, stamps of size, note and token, unstamped)');
    return null;
  }
  const sizes = stamps.map((s) => (s as { size: number }).size);
  if (sizes.some((s, i) => i > 0 && s <= sizes[i - 1]!)) {
    report('its stamps are not in strictly ascending size');
    return null;
  }
  return value as unknown as TimestampsFile;
}
