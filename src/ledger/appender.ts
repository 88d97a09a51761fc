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
import type { Link } from './chain-head.js';
import { ChainHead } from './chain-head.js';
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

/** One chain's pipeline: its queued units, how many of its batches are in flight, and where they link on to. */
interface Lane {
  queue: Unit[];
  inFlight: number;
  head: ChainHead;
}

/** Refusals of a record's content by the ledger's triggers: the same record is refused however often it is sent. */
const REFUSED_BY_LEDGER = new Set(['WRT02', 'WRT03', 'WRT04', 'WRT06', 'WRT07']);

/**
 * Group commit: concurrent appends that arrive while a batch is in flight are coalesced into the
 * next one, so the chain lock and the commit's fsync are paid per batch, not per record. A
 * caller's promise settles only after its batch has committed (or failed as a whole).
 *
 * Each chain has its own queue and its own batches in flight: chains append in parallel, and a
 * batch holds one chain's lock, never two (so batches of different chains never wait on each other).
 */
export class GroupCommitAppender implements LedgerAppender {
  private readonly lanes = new Map<string, Lane>();
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

  /**
   * Validates every draft first: one bad draft refuses the whole set and nothing is written. The
   * set is one transaction, so its records must share a chain: records on two chains are refused
   * rather than split, since a split could commit one chain's part and lose the other's.
   */
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
    const chains = [...new Set(records.map((prepared) => prepared.record.chain))];
    if (chains.length > 1)
      throw new InvalidRecordError(
        `the records of one append are written in one transaction, which appends to one chain, and these are on ${chains.length} (${chains.join(', ')}): append each chain's records separately`,
      );
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

  /** Queues records already prepared, all of one chain, on that chain's lane. */
  private enqueuePrepared(
    records: PreparedRecord[],
    accept?: AcceptEarlier,
    handedAt = performance.now(),
  ): Promise<AppendResult[]> {
    const chain = records[0]!.record.chain;
    return new Promise<AppendResult[]>((resolve, reject) => {
      let lane = this.lanes.get(chain);
      if (!lane) this.lanes.set(chain, (lane = { queue: [], inFlight: 0, head: new ChainHead() }));
      lane.queue.push({ records, ...(accept ? { accept } : {}), handedAt, resolve, reject });
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
      for (const lane of this.lanes.values()) this.pump(lane);
    });
  }

  /** Resolves once everything queued so far has settled. */
  drain(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private idle(): boolean {
    return [...this.lanes.values()].every((lane) => !lane.queue.length && lane.inFlight === 0);
  }

  private pump(lane: Lane): void {
    while (lane.inFlight < this.maxInFlight && lane.queue.length && lane.head.maySend(lane.inFlight)) {
      // Sharing what is queued among the free slots keeps two batches in the pipeline: one
      // commits in PostgreSQL while the callers of the other prepare their next records.
      const queued = lane.queue.reduce((total, unit) => total + unit.records.length, 0);
      const target = Math.min(this.maxBatch, Math.ceil(queued / (this.maxInFlight - lane.inFlight)));
      const batch: Unit[] = [];
      let size = 0;
      // A unit is never split: appendAll's records share one transaction.
      while (lane.queue.length && (size === 0 || size + lane.queue[0]!.records.length <= target)) {
        const unit = lane.queue.shift()!;
        batch.push(unit);
        size += unit.records.length;
      }
      lane.inFlight++;
      void this.flush(lane, batch, size).then((tail) => {
        lane.inFlight--;
        lane.head.committed(tail, lane.inFlight === 0);
        this.schedulePump();
        if (this.idle()) this.idleWaiters.splice(0).forEach((wake) => wake());
      });
    }
  }

  /** Never rejects: every unit's promise settles. Returns the newest record written, if any. */
  private async flush(lane: Lane, batch: Unit[], size: number): Promise<Link | undefined> {
    const idempotencyKeys = batch.flatMap((unit) => unit.records.map((prepared) => prepared.record.idempotencyKey));
    try {
      const { outcomes, backendPid, tail } = await writeBatch(this.pool, batch, lane.head);
      // Observed before anyone's promise settles: a caller that saw its append commit finds it counted.
      this.observeBatch(size, true);
      batch.forEach((unit, index) => {
        const outcome = outcomes[index]!;
        this.observeUnit(unit, outcome.ok ? outcome.results : null);
        if (outcome.ok) unit.resolve(outcome.results);
        else unit.reject(outcome.error);
      });
      this.options.onBatch?.({ records: size, idempotencyKeys, ok: true, backendPid });
      return tail;
    } catch (cause) {
      if (refusedByLedger(cause) && batch.length > 1) return this.flushAlone(lane, batch);
      const error = batchError(cause, size);
      this.observeBatch(size, false);
      for (const unit of batch) {
        this.observeUnit(unit, null);
        unit.reject(error);
      }
      this.options.onBatch?.({ records: size, idempotencyKeys, ok: false, error });
      return undefined;
    }
  }

  /**
   * The ledger refused one unit's records for what they say: each unit goes again on its own, so
   * only the refused one fails and the others in its batch are written.
   */
  private async flushAlone(lane: Lane, batch: Unit[]): Promise<Link | undefined> {
    let newest: Link | undefined;
    for (const unit of batch) {
      const tail = await this.flush(lane, [unit], unit.records.length);
      if (tail && (!newest || tail.seq > newest.seq)) newest = tail;
    }
    return newest;
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

function refusedByLedger(cause: unknown): boolean {
  return REFUSED_BY_LEDGER.has((cause as { code?: string } | null)?.code ?? '');
}

/** A refusal of the records' content is final; anything else may not have been written, and a retry is safe. */
function batchError(cause: unknown, size: number): WritError {
  if (refusedByLedger(cause))
    return new InvalidRecordError(`the ledger refused the record(s): ${ensureError(cause).message}`);
  return new WritError(
    'LEDGER_APPEND_FAILED',
    `ledger append failed: a batch of ${size} record(s) was not confirmed (${ensureError(cause).message}); it was not written, or its answer was lost after the commit was sent`,
    'Retry with the same idempotency keys: a record that did commit is returned, never written twice.',
    { cause },
  );
}
