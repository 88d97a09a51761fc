import { createHash } from 'node:crypto';
import { WritError } from '../model/errors.js';
import { KEY_CONFLICT_TYPE } from '../model/events.js';
import type { Json } from '../model/json.js';
import type { ResultRow } from './append-sql.js';
import type { AppendResult } from './append-types.js';
import type { PreparedRecord, RecordDraft } from './record.js';
import { LEDGER_KEY_PREFIX } from './record.js';

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
 * The evidence of a refused write: which key, what held it (seq and hash), and the refused record
 * in full with the SHA-256 of its canonical bytes, so nothing the writer meant to record is lost.
 */
export function keyConflictDraft({ prepared: rejected, row: existing, differences }: KeyConflict): RecordDraft {
  const record = rejected.record;
  return {
    type: KEY_CONFLICT_TYPE,
    chain: record.chain,
    idempotencyKey: `${LEDGER_KEY_PREFIX}key-conflict/${record.eventId}`,
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
