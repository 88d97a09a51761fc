import type pg from 'pg';
import type { Inserted, ResultRow } from './append-sql.js';
import { findExisting, insertRecords, keyOf, newestLink, parseStored, resultOf } from './append-sql.js';
import type { AcceptEarlier, AppendResult } from './append-types.js';
import type { ChainHead, Link, LinkColumns } from './chain-head.js';
import type { StoredValue } from './sealed-sql.js';
import type { KeyConflict } from './key-conflict.js';
import { LAST_CONFLICT_PLACE, isSameRefusal, keyConflictDraft, keyConflictError } from './key-conflict.js';
import type { PreparedRecord } from './record.js';
import { prepareRecord, recordDifferences } from './record.js';
import { sealAt } from './seal-at.js';
import { hasSealed, insertWithSealed, openedAt, storedSealed, withoutSealedValues } from './sealed-sql.js';

export type Outcome = { ok: true; results: AppendResult[] } | { ok: false; error: Error };

/** The records of one append or appendAll call, written together or not at all. */
export interface Unit {
  records: PreparedRecord[];
  accept?: AcceptEarlier;
  /** performance.now() when the caller handed the records over, for the append latency. */
  handedAt?: number;
  resolve: (results: AppendResult[]) => void;
  reject: (error: Error) => void;
}

interface Pending {
  unit: Unit;
  settle: (outcome: Outcome) => void;
  /** What goes instead when the unit's key holds a different record (a conflict's second key). */
  elsewhere?: () => Pending;
}

export interface Written {
  outcomes: Outcome[];
  backendPid?: number;
  /** The newest record the batch wrote, if any. */
  tail?: Link;
}

/**
 * The common case is one statement: every key is new and every record is written, linked on to
 * the chain's head as `head` knows it. When a key is taken, nothing is written by that statement;
 * the earlier records are read and compared: the same event is a duplicate (the earlier record is
 * returned), a different one is a conflict, which is itself recorded and refused. Units that were
 * only held up go again in the next round, without links: the ledger links those itself.
 */
export async function writeBatch(pool: pg.Pool, batch: Unit[], head?: ChainHead): Promise<Written> {
  const outcomes: Outcome[] = new Array(batch.length);
  let pending: Pending[] = batch.map((unit, index) => ({
    unit,
    settle: (outcome) => (outcomes[index] = outcome),
  }));
  let backendPid: number | undefined;
  let tail: Link | undefined;
  for (let round = 0; pending.length; round++) {
    if (round >= 16) throw new Error('records kept colliding with concurrent appends of the same keys');
    const { now, later } = splitByKey(pending);
    const records = distinctRecords(now);
    // Linked here, before the first await: batches of one chain take their links in the order they are sent.
    const links = round === 0 ? (head?.claim(records) ?? null) : null;
    const inserted = await insertLinked(pool, records, links, head);
    if (Array.isArray(inserted)) {
      backendPid ??= inserted[0]?.backend_pid;
      tail = newestLink(inserted, tail);
      settleInserted(now, inserted);
    } else {
      const found = await findExisting(pool, records);
      const sealed = await storedSealed(pool, records);
      for (const entry of now) {
        const again = compareWithStored(entry, found, sealed);
        if (again) later.push(again);
      }
    }
    pending = later;
  }
  return { outcomes, ...(backendPid === undefined ? {} : { backendPid }), ...(tail ? { tail } : {}) };
}

async function insertLinked(
  pool: pg.Pool,
  records: PreparedRecord[],
  links: LinkColumns | null,
  head: ChainHead | undefined,
): Promise<Inserted> {
  const send = () =>
    hasSealed(records) ? insertWithSealed(pool, records, links) : insertRecords(pool, records, links);
  if (!links || !head) return send();
  let inserted: Inserted;
  try {
    inserted = await send();
    // Checked before the batch it links on to was written: once that one commits, the links hold.
    if (inserted === 'link-refused' && (await head.earlierCommitted(links))) inserted = await send();
  } catch (error) {
    head.settled(links, false, false);
    throw error;
  }
  head.settled(links, Array.isArray(inserted), inserted === 'link-refused');
  return inserted;
}

/**
 * A key may be held by two units of one batch (two attempts of one activity): the later unit
 * waits a round, so it is compared with the earlier one's stored record.
 */
function splitByKey(pending: Pending[]): { now: Pending[]; later: Pending[] } {
  const claimed = new Set<string>();
  const now: Pending[] = [];
  const later: Pending[] = [];
  for (const entry of pending) {
    const keys = entry.unit.records.map((prepared) => keyOf(prepared.record.chain, prepared.record.idempotencyKey));
    if (keys.some((key) => claimed.has(key))) later.push(entry);
    else {
      keys.forEach((key) => claimed.add(key));
      now.push(entry);
    }
  }
  return { now, later };
}

function distinctRecords(entries: Pending[]): PreparedRecord[] {
  const unique = new Map<string, PreparedRecord>();
  for (const { unit } of entries)
    for (const prepared of unit.records)
      unique.set(keyOf(prepared.record.chain, prepared.record.idempotencyKey), prepared);
  return [...unique.values()];
}

/** A record repeated within its own unit comes back as a duplicate of its first occurrence. */
function settleInserted(entries: Pending[], inserted: ResultRow[]): void {
  const rows = new Map(inserted.map((row) => [keyOf(row.chain_id, row.idempotency_key), row]));
  for (const { unit, settle } of entries)
    settle({
      ok: true,
      results: unit.records.map((prepared, index) =>
        resultOf(
          rows.get(keyOf(prepared.record.chain, prepared.record.idempotencyKey))!,
          unit.records.slice(0, index).some((p) => p.record.idempotencyKey === prepared.record.idempotencyKey),
        ),
      ),
    });
}

/**
 * Settles a unit whose keys are all stored as the same events (duplicates); otherwise returns what
 * goes in the next round: the unit again when a key was missing (a concurrent insert was refused),
 * or the record of its conflict.
 */
function compareWithStored(
  entry: Pending,
  found: Map<string, ResultRow>,
  sealed: Map<string, Map<string, StoredValue>>,
): Pending | null {
  const { unit, settle } = entry;
  const results: AppendResult[] = [];
  let missing = false;
  let conflict: KeyConflict | null = null;
  for (const prepared of unit.records) {
    const row = found.get(keyOf(prepared.record.chain, prepared.record.idempotencyKey));
    if (!row) {
      missing = true;
      continue;
    }
    const values = sealed.get(keyOf(row.chain_id, row.idempotency_key));
    const stored = parseStored(row.canonical);
    const differences = differencesFromStored(stored, prepared, values);
    const earlier = values ? openedAt(stored, values) : stored;
    if (differences.length && !unit.accept?.(earlier, prepared.sealed?.open ?? prepared.record, differences)) {
      conflict ??= { prepared, row, differences };
      continue;
    }
    results.push({ ...resultOf(row, true), earlier });
  }
  if (conflict) return entry.elsewhere?.() ?? conflictEntry(conflict, settle);
  if (missing) return entry;
  settle({ ok: true, results });
  return null;
}

/**
 * A sealed record is compared as it would have been sealed the first time (with the stored salts);
 * once its values are erased, only what is not sealed can be compared.
 */
function differencesFromStored(
  earlier: Record<string, unknown>,
  prepared: PreparedRecord,
  values: ReadonlyMap<string, StoredValue> | undefined,
): string[] {
  if (!prepared.sealed) return recordDifferences(earlier, prepared.record);
  if (values?.size) {
    const salts = new Map([...values].map(([pointer, { salt }]) => [pointer, salt]));
    return recordDifferences(earlier, prepared.sealed.reseal(salts).record);
  }
  const masked = withoutSealedValues(prepared.record) as PreparedRecord['record'];
  return recordDifferences(withoutSealedValues(earlier), masked);
}

/**
 * The conflict keeps the refused record in full: as its writer gave it, with the members that
 * were personal sealed again where they now sit (under the same subjects).
 */
function conflictRecord(conflict: KeyConflict, place: number): PreparedRecord {
  const sealed = conflict.prepared.sealed;
  if (!sealed) return prepareRecord(keyConflictDraft(conflict, place));
  const open = prepareRecord(
    keyConflictDraft({ ...conflict, prepared: { ...conflict.prepared, record: sealed.open } }, place),
  );
  return sealAt(
    open,
    sealed.rows.map((row) => ({ pointer: `/rejected/record/payload${row.pointer}`, subject: row.subject })),
  );
}

/**
 * The conflict goes on the record first; the writer is refused once it is there. The refusal of
 * the same event already on the record is that conflict, not another (key-conflict.ts).
 */
function conflictEntry(conflict: KeyConflict, settle: (outcome: Outcome) => void, place = 0): Pending {
  const prepared = conflictRecord(conflict, place);
  const refused = conflict.prepared.sealed?.open ?? conflict.prepared.record;
  const unit: Unit = {
    records: [prepared],
    accept: (earlier, _draft, differences) => isSameRefusal(earlier, differences, conflict, refused),
    resolve: () => undefined,
    reject: () => undefined,
  };
  return {
    unit,
    settle: (outcome) => {
      if (!outcome.ok) return settle(outcome);
      settle({ ok: false, error: keyConflictError(conflict, outcome.results[0]!) });
    },
    ...(place < LAST_CONFLICT_PLACE ? { elsewhere: () => conflictEntry(conflict, settle, place + 1) } : {}),
  };
}
