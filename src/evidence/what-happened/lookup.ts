import type pg from 'pg';
import { WritError } from '../../model/errors.js';
import { openSummary, openTimeline } from './sealed-changes.js';
import { timeline, whatHappened } from './queries.js';
import type { TimelineEvent, WhatHappened } from './types.js';

/** What the ledger holds under one id, as `writ what-happened` and every view of `writ serve` need it. */
export interface Evidence {
  id: string;
  /** Null when the id is only a correlation id carried by events outside any operation (notes). */
  summary: WhatHappened | null;
  /** The records themselves, when asked for (and always when there is no summary). */
  events?: TimelineEvent[];
}

export type EvidenceLookup = (pool: pg.Pool, id: string, options: { timeline: boolean }) => Promise<Evidence | null>;

/**
 * The projection's summary, and the records when asked for. Null when nothing in the ledger
 * carries the id; LEDGER_DAMAGED when records name an operation the projection does not have.
 */
export const findEvidence: EvidenceLookup = async (pool, id, options) => {
  // Two reads, on two connections when the pool has them: the answer waits for the slower one
  // only, not for both one after the other.
  const [found, asked] = await Promise.all([summaryOf(pool, id), options.timeline ? eventsOf(pool, id) : undefined]);
  const events = asked ?? (found ? undefined : await eventsOf(pool, id));
  if (found) return { id, summary: found, ...(events ? { events } : {}) };
  if (!events?.length) return null;
  if (events.some((event) => event.operationId !== null)) {
    // Each read has its own snapshot. An operation whose first records were committed after the
    // summary's and before the records' was not damaged, only started; the projection row is
    // written in the same transaction as its records, so a summary read now finds it.
    const summary = await summaryOf(pool, id);
    if (summary) return { id, summary, events };
    // The projection is derived from the records; when they disagree the records are the evidence
    // and the projection is what is broken, so say so rather than show half an answer.
    throw new WritError(
      'LEDGER_DAMAGED',
      `the ledger has ${events.length} record(s) for ${id} but the what-happened view has none`,
      'Rebuild it with `SELECT writ.rebuild_operations();` as the role that ran the migrations.',
    );
  }
  return { id, summary: null, events };
};

// Personal values are sealed in the ledger: shown as they are held, or as erased (when, by whom, why).
async function summaryOf(pool: pg.Pool, id: string): Promise<WhatHappened | null> {
  return openSummary(pool, await whatHappened(pool, id));
}

async function eventsOf(pool: pg.Pool, id: string): Promise<TimelineEvent[]> {
  return openTimeline(pool, await timeline(pool, id));
}
