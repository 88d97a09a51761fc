import type pg from 'pg';
import { WritError, ensureError } from '../errors.js';
import type { PreparedRecord, RecordDraft } from './record.js';
import { InvalidRecordError, prepareRecordSafe } from './record.js';

export interface AppendResult {
  chain: string;
  seq: number;
  hash: string;
  eventId: string;
  idempotencyKey: string;
  recordedAt: Date;
  /** True when the idempotency key was already recorded: this is the earlier record. */
  duplicate: boolean;
  /** For a duplicate, the earlier record itself, so a retry can carry on from what it said. */
  earlier?: Record<string, unknown>;
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
  append(draft: RecordDraft): Promise<AppendResult>;
  appendAll(drafts: readonly RecordDraft[]): Promise<AppendResult[]>;
}

interface Unit {
  records: PreparedRecord[];
  resolve: (results: AppendResult[]) => void;
  reject: (error: Error) => void;
}

const INSERT_BATCH = `
  INSERT INTO writ.records (canonical)
  SELECT canonical FROM unnest($1::bytea[]) WITH ORDINALITY AS input(canonical, ord) ORDER BY ord
  ON CONFLICT (chain_id, idempotency_key) DO NOTHING
  RETURNING chain_id, seq, encode(hash, 'hex') AS hash, event_id, idempotency_key, recorded_at,
            pg_backend_pid() AS backend_pid`;

const FIND_EXISTING = `
  SELECT chain_id, seq, encode(hash, 'hex') AS hash, event_id, idempotency_key, recorded_at, record
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
  record?: Record<string, unknown>;
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

  constructor(private readonly pool: pg.Pool, private readonly options: AppenderOptions = {}) {
    this.maxBatch = options.maxBatch ?? 512;
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  async append(draft: RecordDraft): Promise<AppendResult> {
    const [result] = await this.appendAll([draft]);
    return result!;
  }

  /** Validates every draft first: one bad draft refuses the whole set and nothing is written. */
  appendAll(drafts: readonly RecordDraft[]): Promise<AppendResult[]> {
    const records: PreparedRecord[] = [];
    const problems: string[] = [];
    drafts.forEach((draft, index) => {
      const prepared = prepareRecordSafe(draft);
      if (prepared.ok) records.push(prepared.prepared);
      else problems.push(drafts.length > 1 ? `record ${index + 1}: ${prepared.problem}` : prepared.problem);
    });
    if (problems.length) return Promise.reject(new InvalidRecordError(problems.join('\n')));
    if (!records.length) return Promise.resolve([]);
    return this.enqueuePrepared(records);
  }

  enqueuePrepared(records: PreparedRecord[]): Promise<AppendResult[]> {
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
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
    const records = batch.flatMap((unit) => unit.records);
    const idempotencyKeys = records.map((prepared) => prepared.record.idempotencyKey);
    try {
      const results = await this.write(records);
      let offset = 0;
      for (const unit of batch) {
        unit.resolve(results.slice(offset, offset + unit.records.length));
        offset += unit.records.length;
      }
      this.options.onBatch?.({ records: size, idempotencyKeys, ok: true, backendPid: results.backendPid });
    } catch (cause) {
      const error = new WritError('LEDGER_APPEND_FAILED', `ledger append failed; none of the ${size} record(s) in this batch were written by it: ${ensureError(cause).message}`,
        'Retry with the same idempotency keys: a record that did commit is returned, never written twice.', { cause });
      for (const unit of batch) unit.reject(error);
      this.options.onBatch?.({ records: size, idempotencyKeys, ok: false, error });
    }
  }

  private async write(records: PreparedRecord[]): Promise<AppendResult[] & { backendPid?: number }> {
    // Only the first record with a given key is sent; later ones in the same batch get its result.
    const firstByKey = new Map<string, PreparedRecord>();
    for (const prepared of records) {
      const key = keyOf(prepared.record.chain, prepared.record.idempotencyKey);
      if (!firstByKey.has(key)) firstByKey.set(key, prepared);
    }
    const unique = [...firstByKey.values()];
    // One statement is one transaction: every row commits, or none does.
    const inserted = await this.pool.query<ResultRow>(INSERT_BATCH, [unique.map((p) => p.canonical)]);
    const rows = new Map<string, { row: ResultRow; fresh: boolean }>();
    for (const row of inserted.rows) rows.set(keyOf(row.chain_id, row.idempotency_key), { row, fresh: true });
    const missing = unique.filter((p) => !rows.has(keyOf(p.record.chain, p.record.idempotencyKey)));
    if (missing.length) {
      const existing = await this.pool.query<ResultRow>(FIND_EXISTING, [missing.map((p) => p.record.chain), missing.map((p) => p.record.idempotencyKey)]);
      for (const row of existing.rows) rows.set(keyOf(row.chain_id, row.idempotency_key), { row, fresh: false });
    }
    const claimed = new Set<string>();
    const results = records.map((prepared): AppendResult => {
      const key = keyOf(prepared.record.chain, prepared.record.idempotencyKey);
      const found = rows.get(key);
      if (!found) throw new Error(`record with idempotency key ${prepared.record.idempotencyKey} was neither inserted nor found`);
      const duplicate = !found.fresh || claimed.has(key);
      claimed.add(key);
      return {
        chain: found.row.chain_id,
        seq: found.row.seq,
        hash: found.row.hash,
        eventId: found.row.event_id,
        idempotencyKey: found.row.idempotency_key,
        recordedAt: found.row.recorded_at,
        duplicate,
        ...(duplicate && found.row.record ? { earlier: found.row.record } : {}),
      };
    });
    return Object.assign(results, { backendPid: inserted.rows[0]?.backend_pid });
  }
}

function keyOf(chain: string, idempotencyKey: string): string {
  return `${chain}\u0000${idempotencyKey}`;
}
