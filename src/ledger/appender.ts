import type pg from 'pg';
import { WritError, ensureError } from '../model/errors.js';
import type {
  AcceptEarlier,
  AppendOptions,
  AppendOutcome,
  AppendResult,
  AppenderOptions,
  LedgerAppender,
} from './append-types.js';
import { keyOf } from './append-sql.js';
import type { PreparedRecord, RecordDraft } from './record.js';
import { InvalidRecordError, prepareRecordSafe, recordDifferences } from './record.js';
import type { Unit } from './write-batch.js';
import { writeBatch } from './write-batch.js';

export type {
  AcceptEarlier,
  AppendObserver,
  AppendOptions,
  AppendOutcome,
  AppendResult,
  AppenderOptions,
  BatchReport,
  LedgerAppender,
} from './append-types.js';
export { LedgerKeyConflictError } from './key-conflict.js';

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
  async appendAll(drafts: readonly RecordDraft[], options: AppendOptions = {}): Promise<AppendResult[]> {
    const handedAt = performance.now();
    let records: PreparedRecord[];
    try {
      records = await this.prepare(drafts);
    } catch (error) {
      this.observe('error', drafts.length, handedAt);
      throw error;
    }
    if (!records.length) return [];
    return this.enqueuePrepared(records, options.acceptEarlier, handedAt);
  }

  private async prepare(drafts: readonly RecordDraft[]): Promise<PreparedRecord[]> {
    let records: PreparedRecord[] = [];
    const problems: string[] = [];
    drafts.forEach((draft, index) => {
      const prepared = prepareRecordSafe(draft);
      if (prepared.ok) records.push(prepared.prepared);
      else problems.push(drafts.length > 1 ? `record ${index + 1}: ${prepared.problem}` : prepared.problem);
    });
    if (problems.length) throw new InvalidRecordError(problems.join('\n'));
    // Two different records under one key in one set would each claim to be the event.
    const byKey = new Map<string, PreparedRecord>();
    for (const prepared of records) {
      const key = keyOf(prepared.record.chain, prepared.record.idempotencyKey);
      const first = byKey.get(key);
      if (first && recordDifferences(first.record, prepared.record).length) {
        throw new InvalidRecordError(
          `two different records with idempotency key ${prepared.record.idempotencyKey} in one set`,
        );
      }
      byKey.set(key, first ?? prepared);
    }
    // Sealed after the check above: fresh salts make two copies of one event differ in their bytes.
    if (this.options.sealer && records.length) records = await this.options.sealer.seal(records);
    return records;
  }

  enqueuePrepared(
    records: PreparedRecord[],
    accept?: AcceptEarlier,
    handedAt = performance.now(),
  ): Promise<AppendResult[]> {
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.queue.push({ records, ...(accept ? { accept } : {}), handedAt, resolve, reject });
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
      const { outcomes, backendPid } = await writeBatch(this.pool, batch);
      // Observed before anyone's promise settles: a caller that saw its append commit finds it counted.
      this.observeBatch(size, true);
      batch.forEach((unit, index) => {
        const outcome = outcomes[index]!;
        this.observeUnit(unit, outcome.ok ? outcome.results : null);
        if (outcome.ok) unit.resolve(outcome.results);
        else unit.reject(outcome.error);
      });
      this.options.onBatch?.({ records: size, idempotencyKeys, ok: true, backendPid });
    } catch (cause) {
      const error = new WritError(
        'LEDGER_APPEND_FAILED',
        `ledger append failed: a batch of ${size} record(s) was not confirmed (${ensureError(cause).message}); it was not written, or its answer was lost after the commit was sent`,
        'Retry with the same idempotency keys: a record that did commit is returned, never written twice.',
        { cause },
      );
      this.observeBatch(size, false);
      for (const unit of batch) {
        this.observeUnit(unit, null);
        unit.reject(error);
      }
      this.options.onBatch?.({ records: size, idempotencyKeys, ok: false, error });
    }
  }

  /** A unit's records: the new ones written, the duplicates found already there, or (null) none written. */
  private observeUnit(unit: Unit, results: AppendResult[] | null): void {
    if (!results) return this.observe('error', unit.records.length, unit.handedAt);
    const duplicates = results.filter((result) => result.duplicate).length;
    if (results.length > duplicates) this.observe('ok', results.length - duplicates, unit.handedAt);
    if (duplicates) this.observe('duplicate', duplicates, unit.handedAt);
  }

  private observe(outcome: AppendOutcome, count: number, handedAt = performance.now()): void {
    try {
      this.options.observer?.settled(outcome, count, (performance.now() - handedAt) / 1000);
    } catch {
      // Metrics must never cost an append: a broken observer only loses its own numbers.
    }
  }

  private observeBatch(records: number, ok: boolean): void {
    try {
      this.options.observer?.batch(records, ok);
    } catch {
      // As above.
    }
  }
}
