import type pg from 'pg';
import { disclosureMatches, SEALED_MARKER, sealedMarkerOf } from '../verify/sealed.js';

/** What a reader learns of one sealed value. */
export type SealedState =
  | { state: 'held'; value: unknown }
  | { state: 'erased'; at: string; by: string; reason: string; record: string; kind: 'erasure' | 'retention' }
  /** No value and no erasure on record, or a value that does not hash to its commitment. */
  | { state: 'missing' }
  | { state: 'mismatch' };

export const ERASED_MARKER = 'writ:erased';

const MARKER_TEXT = /\{"writ:sealed": ?"([0-9a-f]{64})"\}/g;

const VALUES = `
  SELECT encode(commitment, 'hex') AS commitment, pointer, salt, value FROM writ.sealed_values
   WHERE commitment = ANY($1::bytea[])`;

const ERASURES = `
  SELECT encode(e.commitment, 'hex') AS commitment, e.erasure_event_id, r.event_type,
         r.record ->> 'occurredAt' AS at, r.record -> 'actor' ->> 'id' AS by,
         coalesce(r.record -> 'payload' ->> 'reason', r.record -> 'payload' ->> 'class', '') AS reason
    FROM writ.sealed_erasures e JOIN writ.records r ON r.event_id = e.erasure_event_id
   WHERE e.commitment = ANY($1::bytea[])`;

/** Looks every commitment up: the value (checked against its commitment) or who erased it, when and why. */
export async function sealedStates(pool: pg.Pool, commitments: Iterable<string>): Promise<Map<string, SealedState>> {
  const wanted = [...new Set(commitments)];
  const states = new Map<string, SealedState>();
  if (!wanted.length) return states;
  const keys = wanted.map((c) => Buffer.from(c, 'hex'));
  const values = await pool.query<{ commitment: string; pointer: string; salt: string; value: string }>(VALUES, [keys]);
  for (const row of values.rows) {
    const value = JSON.parse(row.value) as unknown;
    const matches = disclosureMatches({ salt: row.salt, pointer: row.pointer, value }, row.commitment);
    states.set(row.commitment, matches ? { state: 'held', value } : { state: 'mismatch' });
  }
  const unheld = wanted.filter((commitment) => !states.has(commitment));
  // Values held are the common case: the erasure records are read only for what is gone.
  if (!unheld.length) return states;
  const erased = await pool.query<{
    commitment: string;
    erasure_event_id: string;
    event_type: string;
    at: string;
    by: string;
    reason: string;
  }>(ERASURES, [unheld.map((c) => Buffer.from(c, 'hex'))]);
  for (const row of erased.rows)
    if (!states.has(row.commitment))
      states.set(row.commitment, {
        state: 'erased',
        at: row.at,
        by: row.by,
        reason: row.reason,
        record: row.erasure_event_id,
        kind: row.event_type === 'retention.applied' ? 'retention' : 'erasure',
      });
  for (const commitment of wanted) if (!states.has(commitment)) states.set(commitment, { state: 'missing' });
  return states;
}

/** Every commitment in a value: markers in objects, and markers the projection turned into text. */
export function commitmentsIn(value: unknown, found = new Set<string>()): Set<string> {
  const marker = sealedMarkerOf(value);
  if (marker) found.add(marker);
  else if (typeof value === 'string') for (const match of value.matchAll(MARKER_TEXT)) found.add(match[1]!);
  else if (Array.isArray(value)) value.forEach((inner) => commitmentsIn(inner, found));
  else if (value && typeof value === 'object') Object.values(value).forEach((inner) => commitmentsIn(inner, found));
  return found;
}

export function describeSealed(state: SealedState | undefined): string {
  switch (state?.state) {
    case 'held':
      return JSON.stringify(state.value);
    case 'erased':
      return `[${state.kind === 'retention' ? 'expired' : 'erased'} ${state.at} by ${state.by}: ${state.reason}]`;
    case 'mismatch':
      return '[sealed value does not match its commitment]';
    default:
      return '[sealed value missing, no erasure on record]';
  }
}

/** The value with every marker opened: values put back, erased ones shown as `{"writ:erased": {...}}`. */
export function openWith(value: unknown, states: ReadonlyMap<string, SealedState>): unknown {
  const marker = sealedMarkerOf(value);
  if (marker) {
    const state = states.get(marker);
    if (state?.state === 'held') return state.value;
    return { [ERASED_MARKER]: { commitment: marker, ...(state ?? { state: 'missing' }) } };
  }
  if (typeof value === 'string')
    return value.replace(MARKER_TEXT, (_, commitment: string) => {
      // In words (a reason, an error) a held text reads as itself, not as JSON.
      const state = states.get(commitment);
      return state?.state === 'held' && typeof state.value === 'string' ? state.value : describeSealed(state);
    });
  if (Array.isArray(value)) return value.map((inner) => openWith(inner, states));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, openWith(inner, states)]));
  return value;
}

/** Opens everything a reader is about to show. Cheap when nothing is sealed: no query at all. */
export async function openSealed<T>(pool: pg.Pool, value: T): Promise<T> {
  const commitments = commitmentsIn(value);
  if (!commitments.size) return value;
  return openWith(value, await sealedStates(pool, commitments)) as T;
}

export { SEALED_MARKER };
