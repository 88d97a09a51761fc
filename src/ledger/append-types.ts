import type { CanonicalRecord, PreparedRecord, RecordDraft } from './record.js';

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
  /** Told of every batch and of how each append ended, for metrics (src/metrics implements it). */
  observer?: AppendObserver;
  /** Takes the personal values out of records before they are hashed (section 16 of docs/FORMAT.md). */
  sealer?: RecordSealer;
}

/** How the records of one append or appendAll call ended: written, already there, or not written. */
export type AppendOutcome = 'ok' | 'duplicate' | 'error';

/**
 * What the appender reports as it works, so that a metrics library can count it without the
 * ledger depending on one. Called synchronously before the callers' promises settle; a throw is
 * ignored, never allowed to fail an append.
 */
export interface AppendObserver {
  /** A group-commit batch of `records` records committed (`ok`) or failed as a whole. */
  batch(records: number, ok: boolean): void;
  /** `count` records handed over together ended with `outcome`, `seconds` after the hand-over. */
  settled(outcome: AppendOutcome, count: number, seconds: number): void;
}

/** Decides which members of a validated record are personal and seals them. */
export interface RecordSealer {
  seal(records: PreparedRecord[]): Promise<PreparedRecord[]>;
}

/** Appends one record or several; the latter are all-or-nothing. */
export interface LedgerAppender {
  append(draft: RecordDraft, options?: AppendOptions): Promise<AppendResult>;
  appendAll(drafts: readonly RecordDraft[], options?: AppendOptions): Promise<AppendResult[]>;
}
