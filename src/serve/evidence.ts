import type pg from 'pg';
import { WritError } from '../errors.js';
import type { TimelineEvent, WhatHappened } from '../evidence/what-happened/index.js';
import { timeline, whatHappened } from '../evidence/what-happened/index.js';

/** What the ledger holds under one id, as every view of `writ serve` needs it. */
export interface Evidence {
  id: string;
  /** Null when the id is only a correlation id carried by events outside any operation (notes). */
  summary: WhatHappened | null;
  /** The records themselves, when asked for (and always when there is no summary). */
  events?: TimelineEvent[];
}

export type EvidenceLookup = (pool: pg.Pool, id: string, options: { timeline: boolean }) => Promise<Evidence | null>;

/** Operation ids are at most 256 characters (the record schema's limit); correlation ids are 32. */
export const MAX_ID_LENGTH = 256;

export function idProblem(id: string): string | null {
  if (!id) return 'no id given: name an operationId or a correlation id';
  if (id.length > MAX_ID_LENGTH) return `an id is at most ${MAX_ID_LENGTH} characters; this one has ${id.length}`;
  return null;
}

/**
 * The same reading as `writ what-happened`: the projection's summary, the records when asked for.
 * Null when nothing in the ledger carries the id.
 */
export const findEvidence: EvidenceLookup = async (pool, id, options) => {
  const summary = await whatHappened(pool, id);
  const events = options.timeline || !summary ? await timeline(pool, id) : undefined;
  if (summary) return { id, summary, ...(events ? { events } : {}) };
  if (!events?.length) return null;
  // The projection is derived from the records; when they disagree the records are the evidence
  // and the projection is what is broken, so say so rather than show half an answer.
  if (events.some((event) => event.operationId !== null)) {
    throw new WritError('LEDGER_DAMAGED', `the ledger has ${events.length} record(s) for ${id} but the what-happened view has none`,
      'Rebuild it with `SELECT writ.rebuild_operations();` as the role that ran the migrations.');
  }
  return { id, summary: null, events };
};
