/**
 * Pure: what an anchor's own history and freshness say, beside what its checkpoints say. A
 * versioned store (S3 with Object Lock) keeps every write to a key; Writ writes each key once, so
 * a later version or a delete marker is someone else's doing, named with its version id and time.
 */

/** Something a versioned anchor saw happen to a checkpoint's key after its first write. */
export interface AnchorKeyEvent {
  /** The anchor's name, as in findings (`s3:<bucket>/<prefix>`). */
  anchor: string;
  size: number;
  key: string;
  versionId: string;
  /** When the store says it happened (ISO 8601). */
  at: string;
  kind: 'overwritten' | 'delete_marker';
  /** For an overwrite: whether the later version holds the same bytes as the first. */
  identical?: boolean;
}

export type AnchorFindingCode = 'ANCHOR_OVERWRITTEN' | 'ANCHOR_DELETE_MARKER';

export interface AnchorKeyFinding {
  code: AnchorFindingCode;
  kind: 'anchor_tampered';
  size: number;
  source: string;
  detail: string;
}

/** An anchor whose newest checkpoint is older than the ledger's newest: its last write failed. */
export interface AnchorLag {
  anchor: string;
  /** The newest size the anchor holds; null when it holds none for this chain. */
  newest: number | null;
  ledgerNewest: number;
  /** How many of the ledger's checkpoints are newer than the anchor's newest. */
  checkpointsBehind: number;
}

export function anchorKeyFindings(events: readonly AnchorKeyEvent[]): AnchorKeyFinding[] {
  return events.map((event) =>
    event.kind === 'overwritten'
      ? {
          code: 'ANCHOR_OVERWRITTEN',
          kind: 'anchor_tampered',
          size: event.size,
          source: event.anchor,
          detail: `${event.key} has a second version ${event.versionId} written ${event.at}${event.identical ? ' (the same bytes)' : ' that differs from the first'}: anchored checkpoints are written once, so someone else wrote it`,
        }
      : {
          code: 'ANCHOR_DELETE_MARKER',
          kind: 'anchor_tampered',
          size: event.size,
          source: event.anchor,
          detail: `${event.key} was deleted (delete marker ${event.versionId}, ${event.at}); its locked versions are still read and checked`,
        },
  );
}

/**
 * Each anchor's newest checkpoint against the ledger's newest. `holders` maps each checkpoint
 * source to the anchor it came from (a version of an S3 key is still that anchor's).
 */
export function anchorLags(
  anchors: readonly string[],
  checkpoints: ReadonlyArray<{ size: number; source: string; anchor?: string }>,
): AnchorLag[] {
  const ledgerSizes = checkpoints.filter((c) => c.source === 'ledger').map((c) => c.size);
  if (!ledgerSizes.length) return [];
  const ledgerNewest = Math.max(...ledgerSizes);
  const lags: AnchorLag[] = [];
  for (const anchor of anchors) {
    const held = checkpoints.filter((c) => (c.anchor ?? c.source) === anchor).map((c) => c.size);
    const newest = held.length ? Math.max(...held) : null;
    if (newest !== null && newest >= ledgerNewest) continue;
    lags.push({
      anchor,
      newest,
      ledgerNewest,
      checkpointsBehind: ledgerSizes.filter((size) => size > (newest ?? -1)).length,
    });
  }
  return lags;
}

export function describeLag(lag: AnchorLag): string {
  return `anchor ${lag.anchor} lags: its newest checkpoint is ${lag.newest ?? 'none'}, the ledger's is ${lag.ledgerNewest} (${lag.checkpointsBehind} checkpoint(s) behind); the next checkpoint run anchors the chain's head there`;
}
