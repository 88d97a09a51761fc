import type pg from 'pg';
import { EventType } from '../../model/events.js';
import type { SealedState } from '../../privacy/open-sealed.js';
import { ERASED_MARKER, describeSealed, openSealed } from '../../privacy/open-sealed.js';
import { isDeepStrictEqual } from 'node:util';
import type { TimelineEvent, WhatHappened } from './types.js';

const SEALED_TEXT = '{"writ:sealed": "';

/**
 * The projection words a step's change in SQL, over the record as hashed, where a personal value
 * is a commitment: two commitments always differ (each has its own salt) and are cut short. So for
 * steps with sealed values the change is worded again here, from the values as they are held now,
 * the same way (`name: "Acme" -> "Initech"`), or as erased.
 */
export function stepChangeText(payload: Record<string, unknown>): string {
  const dry = payload.dryRun === true;
  const states = (dry ? payload.wouldChange : payload) as { before?: unknown; after?: unknown } | undefined;
  const before = states?.before;
  const after = states?.after;
  let change: string;
  if (isDeepStrictEqual(before, after)) change = 'no change';
  else if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    change = keys
      .filter((key) => !isDeepStrictEqual(before[key], after[key]))
      .map((key) => `${key}: ${shown(before[key], 60, '(none)')} -> ${shown(after[key], 60, '(none)')}`)
      .join('; ');
  } else change = `${shown(before, 80, 'nothing')} -> ${shown(after, 80, 'nothing')}`;
  return ((dry ? 'would change ' : '') + change).slice(0, 200);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function shown(value: unknown, width: number, missing: string): string {
  if (value === undefined) return missing;
  if (isObject(value) && ERASED_MARKER in value) return describeSealed(value[ERASED_MARKER] as SealedState);
  return JSON.stringify(value).slice(0, width);
}

function executedSummary(event: { stepIndex: number | null; payload: Record<string, unknown> }): string {
  const step = event.stepIndex === null ? '?' : String(event.stepIndex + 1);
  return `step ${step} ${event.payload.dryRun === true ? 'previewed,' : 'changed'} ${stepChangeText(event.payload)}`;
}

/** Timeline events as shown: values opened, and a sealed step's change worded from them. */
export async function openTimeline(pool: pg.Pool, events: TimelineEvent[]): Promise<TimelineEvent[]> {
  const opened = await openSealed(pool, events);
  return opened.map((event, index) =>
    event.type === EventType.stepExecuted && events[index]!.summary?.includes(SEALED_TEXT)
      ? { ...event, summary: executedSummary(event) }
      : event,
  );
}

/** The projection's answer as shown: values opened, sealed steps' changes worded from their records. */
export async function openSummary(pool: pg.Pool, summary: WhatHappened | null): Promise<WhatHappened | null> {
  if (!summary) return summary;
  const sealedOps = summary.operations.filter((op) => JSON.stringify(op).includes(SEALED_TEXT.replace(/"/g, '\\"')));
  const changes = new Map<string, string>();
  if (sealedOps.length) {
    const { rows } = await pool.query<{
      operation_id: string;
      record: { stepIndex: number | null; payload: Record<string, unknown> };
    }>(
      `SELECT operation_id, record FROM writ.records WHERE operation_id = ANY($1::text[]) AND event_type = $2 ORDER BY seq`,
      [sealedOps.map((op) => op.operationId), EventType.stepExecuted],
    );
    const records = await openSealed(pool, rows);
    for (const { operation_id: op, record } of records)
      changes.set(`${op}/${record.stepIndex}`, stepChangeText(record.payload));
  }
  const reworded: WhatHappened = {
    ...summary,
    operations: summary.operations.map((op) => {
      const change = (index: number | null) => changes.get(`${op.operationId}/${index}`);
      return {
        ...op,
        steps: op.steps.map((step) => (change(step.index) ? { ...step, change: change(step.index)! } : step)),
        recent: op.recent.map((event) =>
          event.type === EventType.stepExecuted && event.summary?.includes(SEALED_TEXT) && change(event.stepIndex)
            ? {
                ...event,
                summary: `step ${(event.stepIndex ?? 0) + 1} ${event.summary.includes('previewed,') ? 'previewed,' : 'changed'} ${change(event.stepIndex)!}`,
              }
            : event,
        ),
      };
    }),
  };
  return openSealed(pool, reworded);
}
