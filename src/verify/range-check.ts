import { EventType } from '../model/events.js';
import { ChainVerifier } from './chain.js';
import type { ChainHead, Damage, LedgerRow } from './chain.js';
import type { LifecycleChecker, LifecycleFacts } from './lifecycle-check.js';
import { leafHash } from './merkle.js';

/**
 * The lifecycle facts of a range's good records, in seq order, as columns: they cross from a
 * worker thread to the main thread by structured clone, where arrays of strings are far cheaper
 * than one object per record. Records without an operation, or without a state that is not a
 * closing, change no lifecycle verdict and are left out.
 */
export interface FactColumns {
  seqs: number[];
  operations: string[];
  states: (string | null)[];
  /** Indexes (into the columns) of operation.closed records, and their payloads. */
  closedAt: number[];
  payloads: unknown[];
}

export function emptyFacts(): FactColumns {
  return { seqs: [], operations: [], states: [], closedAt: [], payloads: [] };
}

export function addFacts(columns: FactColumns, facts: LifecycleFacts): void {
  const { operationId, state } = facts;
  if (typeof operationId !== 'string' || operationId === '') return;
  const closed = facts.type === EventType.operationClosed;
  const stateText = typeof state === 'string' ? state : null;
  if (!closed && stateText === null) return;
  if (closed) {
    columns.closedAt.push(columns.seqs.length);
    columns.payloads.push(facts.payload);
  }
  columns.seqs.push(facts.seq);
  columns.operations.push(operationId);
  columns.states.push(stateText);
}

/** Feeds the columns to a lifecycle checker as the records they came from would have. */
export function replayFacts(columns: FactColumns, checker: LifecycleChecker): void {
  let closing = 0;
  for (let i = 0; i < columns.seqs.length; i++) {
    const closed = columns.closedAt[closing] === i;
    checker.push({
      seq: columns.seqs[i]!,
      operationId: columns.operations[i],
      type: closed ? EventType.operationClosed : null,
      state: columns.states[i],
      payload: closed ? columns.payloads[closing++] : undefined,
    });
  }
}

/** What one range's check sends back: everything the main thread needs to stitch ranges into a chain. */
export interface RangeResult {
  /** The range's first row, whole, so the main thread can check it against the previous range. */
  first: LedgerRow | null;
  /** Good records before any damage, the last of them, and the first damage after the first row. */
  records: number;
  head: ChainHead | null;
  damage: Damage | null;
  facts: FactColumns;
  /** The good records' Merkle leaf hashes, 32 bytes each, in order; null when not asked for. */
  leaves: Uint8Array | null;
}

/**
 * Checks one seq range of a chain exactly as ChainVerifier checks a whole chain, except for what
 * needs the previous range: the first row's sequence number and link are taken as they come
 * (its verifier starts from the first row's own prev_hash) and checked again when stitching.
 */
export class RangeChecker {
  private verifier: ChainVerifier | null = null;
  private first: LedgerRow | null = null;
  private readonly facts = emptyFacts();
  private readonly leaves: Buffer[] | null;

  constructor(
    private readonly chainId: string,
    options: { leaves?: boolean } = {},
  ) {
    this.leaves = options.leaves ? [] : null;
  }

  push(row: LedgerRow): void {
    if (!this.verifier) {
      this.first = ownedCopy(row);
      const from = { seq: row.seq - 1, hash: Buffer.from(row.prevHash) };
      this.verifier = new ChainVerifier(this.chainId, from, (facts) => addFacts(this.facts, facts));
    }
    if (this.verifier.push(row)) return;
    this.leaves?.push(leafHash(row.canonical));
  }

  result(): RangeResult {
    const verdict = this.verifier?.verdict();
    return {
      first: this.first,
      records: verdict?.records ?? 0,
      head: verdict?.head ?? null,
      damage: verdict?.damage ?? null,
      facts: this.facts,
      leaves: this.leaves ? Buffer.concat(this.leaves) : null,
    };
  }
}

// Rows are views into a network chunk; a structured clone of a view copies the whole chunk.
function ownedCopy(row: LedgerRow): LedgerRow {
  return {
    ...row,
    canonical: Buffer.from(row.canonical),
    prevHash: Buffer.from(row.prevHash),
    hash: Buffer.from(row.hash),
  };
}
