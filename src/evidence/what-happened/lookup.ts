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
  // Personal values are sealed in the ledger: shown as they are held, or as erased (when, by whom, why).
  const summary = await openSummary(pool, await whatHappened(pool, id));
  const events = options.timeline || !summary ? await openTimeline(pool, await timeline(pool, id)) : undefined;
  if (summary) return { id, summary, ...(events ? { events } : {}) };
  if (!events?.length) return null;
  // The projection is derived from the records; when they disagree the records are the evidence
  // and the projection is what is broken, so say so rather than show half an answer.
  if (events.some((event) => event.operationId !== null)) {
    throw new WritError(
      'LEDGER_DAMAGED',
      `the ledger has ${events.length} record(s) for ${id} but the what-happened view has none`,
      'Rebuild it with `SELECT writ.rebuild_operations();` as the role that ran the migrations.',
    );
  }
  return { id, summary: null, events };
};
