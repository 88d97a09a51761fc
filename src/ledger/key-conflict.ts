import { createHash } from 'node:crypto';
import { WritError } from '../model/errors.js';
import { KEY_CONFLICT_TYPE } from '../model/events.js';
import type { Json } from '../model/json.js';
import type { ResultRow } from './append-sql.js';
import type { AppendResult } from './append-types.js';
import type { CanonicalRecord, PreparedRecord, RecordDraft } from './record.js';
import { LEDGER_KEY_PREFIX, recordDifferences } from './record.js';

/**
 * A draft whose idempotency key already holds a different record. The ledger never takes the
 * earlier record for this one: it records the conflict (`ledger.key_conflict`) and refuses.
 */
export class LedgerKeyConflictError extends WritError {
  override readonly name = 'LedgerKeyConflictError';
  declare readonly code: 'LEDGER_KEY_CONFLICT';
  constructor(
    message: string,
    readonly conflict: {
      idempotencyKey: string;
      differences: string[];
      existing: { seq: number; hash: string };
      recorded: { seq: number; hash: string };
    },
  ) {
    super('LEDGER_KEY_CONFLICT', message);
  }

  /** The workflow reads the conflict from the failure (and a step what it wrote before it). */
  override get failureDetails(): unknown[] {
    return [this.conflict];
  }
}

/** A draft refused because `row` already holds its key with a record that differs in `differences`. */
export interface KeyConflict {
  prepared: PreparedRecord;
  row: ResultRow;
  differences: string[];
}

/** The refusal handed to the writer once the conflict is on the record (as `recorded`). */
export function keyConflictError(conflict: KeyConflict, recorded: AppendResult): LedgerKeyConflictError {
  const rejected = conflict.prepared;
  return new LedgerKeyConflictError(
    `idempotency key ${rejected.record.idempotencyKey} already holds a different record (seq ${conflict.row.seq}; ${conflict.differences.join(', ')} differ); this ${rejected.record.type} was refused and the conflict recorded as seq ${recorded.seq}`,
    {
      idempotencyKey: rejected.record.idempotencyKey,
      differences: conflict.differences,
      existing: { seq: Number(conflict.row.seq), hash: conflict.row.hash },
      recorded: { seq: recorded.seq, hash: recorded.hash },
    },
  );
}

/**
 * Where a conflict is filed: the first key free of another record among those named after the
 * record that held the contested key (`seq/<seq>`, then `seq/<seq>/2`, `/3`, `/4`), so a refused
 * record offered again (a retried activity, a workflow task run again after its worker lost it)
 * finds its refusal already there rather than adding another. Those keys can be predicted, so a
 * record planted under each of them sends the conflict to the last place, the refused record's
 * random eventId, which no one can take first. A place is an index into that list.
 */
export const LAST_CONFLICT_PLACE = 4;

function conflictKey(place: number, existing: ResultRow, refusedEventId: string): string {
  if (place >= LAST_CONFLICT_PLACE) return `${LEDGER_KEY_PREFIX}key-conflict/${refusedEventId}`;
  const named = `${LEDGER_KEY_PREFIX}key-conflict/seq/${Number(existing.seq)}`;
  return place === 0 ? named : `${named}/${place + 1}`;
}

/**
 * Whether `earlier`, the record under a conflict's key, is the refusal of the same event: the same
 * contested key, the same holder (seq, hash and eventId) and the same differences, and a refused
 * record that is the same event as `refused` (as a duplicate append is judged: docs/FORMAT.md 1.1).
 * Anything less, such as a conflict planted ahead under the guessable key, is not taken for it.
 */
export function isSameRefusal(
  earlier: Record<string, unknown>,
  differences: string[],
  conflict: KeyConflict,
  refused: CanonicalRecord,
): boolean {
  if (earlier.type !== KEY_CONFLICT_TYPE || differences.some((member) => member !== 'payload')) return false;
  const payload = earlier.payload as {
    idempotencyKey?: unknown;
    differences?: unknown;
    existing?: { seq?: unknown; hash?: unknown; eventId?: unknown };
    rejected?: { record?: unknown };
  } | null;
  const existing = payload?.existing;
  return (
    payload?.idempotencyKey === refused.idempotencyKey &&
    existing?.seq === Number(conflict.row.seq) &&
    existing.hash === conflict.row.hash &&
    existing.eventId === conflict.row.event_id &&
    JSON.stringify(payload.differences) === JSON.stringify(conflict.differences) &&
    recordDifferences(payload.rejected?.record, refused).length === 0
  );
}

/**
 * The evidence of a refused write: which key, what held it (seq and hash), and the refused record
 * in full with the SHA-256 of its canonical bytes, so nothing the writer meant to record is lost.
 */
export function keyConflictDraft(
  { prepared: rejected, row: existing, differences }: KeyConflict,
  place = 0,
): RecordDraft {
  const record = rejected.record;
  return {
    type: KEY_CONFLICT_TYPE,
    chain: record.chain,
    idempotencyKey: conflictKey(place, existing, record.eventId),
    operationId: record.operationId,
    correlationId: record.correlationId,
    traceparent: record.traceparent,
    stepIndex: record.stepIndex,
    state: null,
    actor: { id: 'writ-ledger', kind: 'service', groups: [] },
    workflow: null,
    payload: {
      idempotencyKey: record.idempotencyKey,
      differences,
      existing: { seq: Number(existing.seq), hash: existing.hash, eventId: existing.event_id },
      rejected: {
        sha256: createHash('sha256').update(rejected.canonical).digest('hex'),
        record: record as unknown as Json,
      },
    },
  };
}
