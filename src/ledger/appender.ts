import { createHash } from 'node:crypto';
import type pg from 'pg';
import { WritError, ensureError } from '../model/errors.js';
import type { Json } from '../model/json.js';
import type { CanonicalRecord, PreparedRecord, RecordDraft } from './record.js';
import {
  InvalidRecordError,
  LEDGER_KEY_PREFIX,
  prepareRecord,
  prepareRecordSafe,
  recordDifferences,
} from './record.js';
import { KEY_CONFLICT_TYPE } from '../model/events.js';

export interface AppendResult {
  chain: string;
  seq: number;
  hash: string;
  eventId: string;
  idempotencyKey: string;
  recordedAt: Date;
  /** True when the idempotency key was already recorded: this is the earlier record. */
  duplicate: boolean;
  /**
   * For a duplicate, the earlier record itself (parsed from its canonical bytes), so a retry can carry
   * on from what it said.
   */
  earlier?: Record<string, unknown>;
}

/**
 * Says whether an earlier record under the draft's key, which differs from it in `differences`,
 * is nonetheless the same event (a retry that saw the world move since its first attempt). The
 * default accepts only records that are the same in everything that must not change on retry.
 */
export type AcceptEarlier = (
  earlier: Record<string, unknown>,
  draft: CanonicalRecord,
  differences: string[],
) => boolean;

export interface AppendOptions {
  acceptEarlier?: AcceptEarlier;
}

export interface BatchReport {
  records: number;
  idempotencyKeys: string[];
  ok: boolean;
  error?: Error;
  /** The PostgreSQL backend that ran the batch, for operators correlating with pg_stat_activity. */
  backendPid?: number;
}

export interface AppenderOptions {
  /** Records per transaction at most. */
  maxBatch?: number;
  /** Batches in flight at once; they serialise on the chain lock but overlap their round trips. */
  maxInFlight?: number;
  onBatch?: (report: BatchReport) => void;
}

/** Appends one record or several; the latter are all-or-nothing. */
export interface LedgerAppender {
  append(draft: RecordDraft, options?: AppendOptions): Promise<AppendResult>;
  appendAll(drafts: readonly RecordDraft[], options?: AppendOptions): Promise<AppendResult[]>;
}

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

type Outcome = { ok: true; results: AppendResult[] } | { ok: false; error: Error };

interface Unit {
  records: PreparedRecord[];
  accept?: AcceptEarlier;
  resolve: (results: AppendResult[]) => void;
  reject: (error: Error) => void;
}

// Writes every record, or none when any of their keys is already taken (then the caller sorts
// retries from conflicts first). A concurrent insert of the same key fails the statement (23505).
const INSERT_BATCH = `
  INSERT INTO writ.records (canonical)
  SELECT canonical FROM unnest($1::bytea[]) WITH ORDINALITY AS input(canonical, ord)
   WHERE NOT EXISTS (SELECT 1 FROM writ.records r JOIN unnest($2::text[], $3::text[]) AS k(chain_id, idempotency_key)
                       ON r.chain_id = k.chain_id AND r.idempotency_key = k.idempotency_key)
   ORDER BY ord
  RETURNING chain_id, seq, encode(hash, 'hex') AS hash, event_id, idempotency_key, recorded_at,
            pg_backend_pid() AS backend_pid`;

const FIND_EXISTING = `
  SELECT chain_id, seq, encode(hash, 'hex') AS hash, event_id, idempotency_key, recorded_at, canonical
    FROM writ.records
   WHERE (chain_id, idempotency_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;

interface ResultRow {
  chain_id: string;
  seq: number;
  hash: string;
  event_id: string;
  idempotency_key: string;
  recorded_at: Date;
  backend_pid?: number;
  canonical?: Buffer;
}

/**
 * Group commit: concurrent appends that arrive while a batch is in flight are coalesced into the
 * next one, so the chain lock and the commit's fsync are paid per batch, not per record. A
 * caller's promise settles only after its batch has committed (or failed as a whole).
 */
export class GroupCommitAppender implements LedgerAppender {
  private readonly queue: Unit[] = [];
  private inFlight = 0;
  private pumpScheduled = false;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: AppenderOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 512;
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  async append(draft: RecordDraft, options: AppendOptions = {}): Promise<AppendResult> {
    const [result] = await this.appendAll([draft], options);
    return result!;
  }

  /** Validates every draft first: one bad draft refuses the whole set and nothing is written. */
  appendAll(drafts: readonly RecordDraft[], options: AppendOptions = {}): Promise<AppendResult[]> {
    const records: PreparedRecord[] = [];
    const problems: string[] = [];
    drafts.forEach((draft, index) => {
      const prepared = prepareRecordSafe(draft);
      if (prepared.ok) records.push(prepared.prepared);
      else problems.push(drafts.length > 1 ? `record ${index + 1}: ${prepared.problem}` : prepared.problem);
    });
    if (problems.length) return Promise.reject(new InvalidRecordError(problems.join('\n')));
    if (!records.length) return Promise.resolve([]);
    // Two different records under one key in one set would each claim to be the event.
    const byKey = new Map<string, PreparedRecord>();
    for (const prepared of records) {
      const key = keyOf(prepared.record.chain, prepared.record.idempotencyKey);
      const first = byKey.get(key);
      if (first && recordDifferences(first.record, prepared.record).length) {
        return Promise.reject(
          new InvalidRecordError(
            `two different records with idempotency key ${prepared.record.idempotencyKey} in one set`,
          ),
        );
      }
      byKey.set(key, first ?? prepared);
    }
    return this.enqueuePrepared(records, options.acceptEarlier);
  }

  enqueuePrepared(records: PreparedRecord[], accept?: AcceptEarlier): Promise<AppendResult[]> {
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.queue.push({ records, ...(accept ? { accept } : {}), resolve, reject });
      this.schedulePump();
    });
  }

  /**
   * Batches start on the next turn of the event loop, not on the first arrival: callers woken by
   * the last commit enqueue their next record in this turn, and all of them join one batch
   * instead of the first one flushing alone.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Resolves once everything queued so far has settled. */
  drain(): Promise<void> {
    if (!this.queue.length && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length) {
      // Sharing what is queued among the free slots keeps two batches in the pipeline: one
      // commits in PostgreSQL while the callers of the other prepare their next records.
      const queued = this.queue.reduce((total, unit) => total + unit.records.length, 0);
      const target = Math.min(this.maxBatch, Math.ceil(queued / (this.maxInFlight - this.inFlight)));
      const batch: Unit[] = [];
      let size = 0;
      // A unit is never split: appendAll's records share one transaction.
      while (this.queue.length && (size === 0 || size + this.queue[0]!.records.length <= target)) {
        const unit = this.queue.shift()!;
        batch.push(unit);
        size += unit.records.length;
      }
      this.inFlight++;
      void this.flush(batch, size).finally(() => {
        this.inFlight--;
        this.schedulePump();
        if (!this.queue.length && this.inFlight === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
      });
    }
  }

  private async flush(batch: Unit[], size: number): Promise<void> {
    const idempotencyKeys = batch.flatMap((unit) => unit.records.map((prepared) => prepared.record.idempotencyKey));
    try {
      const { outcomes, backendPid } = await this.write(batch);
      batch.forEach((unit, index) => {
        const outcome = outcomes[index]!;
        if (outcome.ok) unit.resolve(outcome.results);
        else unit.reject(outcome.error);
      });
      this.options.onBatch?.({ records: size, idempotencyKeys, ok: true, backendPid });
    } catch (cause) {
      const error = new WritError(
        'LEDGER_APPEND_FAILED',
        `ledger append failed; none of the ${size} record(s) in this batch were written by it: ${ensureError(cause).message}`,
        'Retry with the same idempotency keys: a record that did commit is returned, never written twice.',
        { cause },
      );
      for (const unit of batch) unit.reject(error);
      this.options.onBatch?.({ records: size, idempotencyKeys, ok: false, error });
    }
  }

  /**
   * The common case is one statement: every key is new and every record is written. When a key
   * is taken, nothing is written by that statement; the earlier records are read and compared:
   * the same event is a duplicate (the earlier record is returned), a different one is a conflict,
   * which is itself recorded and refused. Units that were only held up go again in the next round.
   */
  private async write(batch: Unit[]): Promise<{ outcomes: Outcome[]; backendPid?: number }> {
    const outcomes: Outcome[] = new Array(batch.length);
    let pending: Array<{ unit: Unit; settle: (outcome: Outcome) => void }> = batch.map((unit, index) => ({
      unit,
      settle: (outcome) => (outcomes[index] = outcome),
    }));
    let backendPid: number | undefined;
    for (let round = 0; pending.length; round++) {
      if (round >= 16) throw new Error('records kept colliding with concurrent appends of the same keys');
      // A key may be held by two units of one batch (two attempts of one activity): the later
      // unit waits a round, so it is compared with the earlier one's stored record.
      const claimed = new Set<string>();
      const now: typeof pending = [];
      const later: typeof pending = [];
      for (const entry of pending) {
        const keys = entry.unit.records.map((prepared) => keyOf(prepared.record.chain, prepared.record.idempotencyKey));
        if (keys.some((key) => claimed.has(key))) later.push(entry);
        else {
          keys.forEach((key) => claimed.add(key));
          now.push(entry);
        }
      }
      const unique = new Map<string, PreparedRecord>();
      for (const { unit } of now)
        for (const prepared of unit.records)
          unique.set(keyOf(prepared.record.chain, prepared.record.idempotencyKey), prepared);
      const records = [...unique.values()];
      const inserted = await this.insert(records);
      if (inserted) {
        backendPid ??= inserted[0]?.backend_pid;
        const rows = new Map(inserted.map((row) => [keyOf(row.chain_id, row.idempotency_key), row]));
        for (const { unit, settle } of now)
          settle({
            ok: true,
            results: unit.records.map((prepared, index) =>
              resultOf(
                rows.get(keyOf(prepared.record.chain, prepared.record.idempotencyKey))!,
                unit.records.slice(0, index).some((p) => p.record.idempotencyKey === prepared.record.idempotencyKey),
              ),
            ),
          });
        pending = later;
        continue;
      }
      const existing = await this.pool.query<ResultRow>(FIND_EXISTING, [
        records.map((p) => p.record.chain),
        records.map((p) => p.record.idempotencyKey),
      ]);
      const found = new Map(existing.rows.map((row) => [keyOf(row.chain_id, row.idempotency_key), row]));
      for (const entry of now) {
        const { unit, settle } = entry;
        const results: AppendResult[] = [];
        let missing = false;
        let conflict: { prepared: PreparedRecord; row: ResultRow; differences: string[] } | null = null;
        for (const prepared of unit.records) {
          const row = found.get(keyOf(prepared.record.chain, prepared.record.idempotencyKey));
          if (!row) {
            missing = true;
            continue;
          }
          const earlier = parseStored(row.canonical);
          const differences = recordDifferences(earlier, prepared.record);
          if (differences.length && !unit.accept?.(earlier, prepared.record, differences)) {
            conflict ??= { prepared, row, differences };
            continue;
          }
          results.push({ ...resultOf(row, true), earlier });
        }
        if (conflict) later.push(this.conflictEntry(conflict, entry.settle));
        else if (missing) later.push(entry);
        else settle({ ok: true, results });
      }
      pending = later;
    }
    return { outcomes, ...(backendPid === undefined ? {} : { backendPid }) };
  }

  /** All the records, or null when a key was taken (by an earlier record or a concurrent insert). */
  private async insert(records: PreparedRecord[]): Promise<ResultRow[] | null> {
    try {
      const inserted = await this.pool.query<ResultRow>(INSERT_BATCH, [
        records.map((p) => p.canonical),
        records.map((p) => p.record.chain),
        records.map((p) => p.record.idempotencyKey),
      ]);
      if (inserted.rows.length === records.length) return inserted.rows;
      if (inserted.rows.length === 0) return null;
      throw new Error(`the ledger wrote ${inserted.rows.length} of ${records.length} records of one statement`);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') return null;
      throw error;
    }
  }

  /** The conflict goes on the record first; the writer is refused once it is there. */
  private conflictEntry(
    conflict: { prepared: PreparedRecord; row: ResultRow; differences: string[] },
    settle: (outcome: Outcome) => void,
  ): { unit: Unit; settle: (outcome: Outcome) => void } {
    const rejected = conflict.prepared;
    const prepared = prepareRecord(keyConflictDraft(rejected, conflict.row, conflict.differences));
    const unit: Unit = { records: [prepared], resolve: () => undefined, reject: () => undefined };
    return {
      unit,
      settle: (outcome) => {
        if (!outcome.ok) return settle(outcome);
        const recorded = outcome.results[0]!;
        settle({
          ok: false,
          error: new LedgerKeyConflictError(
            `idempotency key ${rejected.record.idempotencyKey} already holds a different record (seq ${conflict.row.seq}; ${conflict.differences.join(', ')} differ); this ${rejected.record.type} was refused and the conflict recorded as seq ${recorded.seq}`,
            {
              idempotencyKey: rejected.record.idempotencyKey,
              differences: conflict.differences,
              existing: { seq: Number(conflict.row.seq), hash: conflict.row.hash },
              recorded: { seq: recorded.seq, hash: recorded.hash },
            },
          ),
        });
      },
    };
  }
}

function resultOf(row: ResultRow, duplicate: boolean): AppendResult {
  return {
    chain: row.chain_id,
    seq: Number(row.seq),
    hash: row.hash,
    eventId: row.event_id,
    idempotencyKey: row.idempotency_key,
    recordedAt: row.recorded_at,
    duplicate,
  };
}

function parseStored(canonical: Buffer | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(canonical?.toString('utf8') ?? 'null');
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The evidence of a refused write: which key, what held it (seq and hash), and the refused record
 * in full with the SHA-256 of its canonical bytes, so nothing the writer meant to record is lost.
 */
function keyConflictDraft(rejected: PreparedRecord, existing: ResultRow, differences: string[]): RecordDraft {
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

function keyOf(chain: string, idempotencyKey: string): string {
  return `${chain}\u0000${idempotencyKey}`;
}
