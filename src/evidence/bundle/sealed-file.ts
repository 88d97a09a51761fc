import type pg from 'pg';
import { sealedStates } from '../../privacy/open-sealed.js';
import { sealedPlaces } from '../../verify/sealed.js';
import { BundleSelectionError } from './select.js';
import type { BundleRecord } from './select.js';

/** One commitment a bundled record holds, and what became of its value. */
export interface SealedEntry {
  seq: number;
  eventId: string;
  pointer: string;
  commitment: string;
  state: 'held' | 'erased' | 'missing' | 'mismatch';
  erased?: { at: string; by: string; reason: string; record: string; kind: 'erasure' | 'retention' };
  /** Present only for what the export was asked to disclose: enough to check the value against the commitment. */
  disclosure?: { salt: string; value: unknown };
}

const SALTS = `SELECT encode(commitment, 'hex') AS commitment, salt, value FROM writ.sealed_values WHERE commitment = ANY($1::bytea[])`;

/**
 * sealed.json: every commitment in the bundle's records with the state of its value at export
 * (held, or erased: when, by whom, why), and the values asked for by commitment with their salts.
 * Null when no record holds a commitment. A disclosure asked for that is not in these records, or
 * whose value is gone, refuses the export.
 */
export async function sealedFile(
  pool: pg.Pool,
  records: readonly BundleRecord[],
  disclose: readonly string[] = [],
): Promise<Buffer | null> {
  const places = records.flatMap((r) =>
    sealedPlaces(r.record.payload).map((place) => ({ ...place, seq: r.seq, eventId: String(r.record.eventId) })),
  );
  const unknown = disclose.filter((commitment) => !places.some((place) => place.commitment === commitment));
  if (unknown.length)
    throw new BundleSelectionError(`cannot disclose ${unknown.join(', ')}: no selected record holds that commitment`);
  if (!places.length) return null;
  const states = await sealedStates(
    pool,
    places.map((place) => place.commitment),
  );
  const gone = disclose.filter((commitment) => states.get(commitment)?.state !== 'held');
  if (gone.length) throw new BundleSelectionError(`cannot disclose ${gone.join(', ')}: the value is no longer held`);
  const salts = disclose.length
    ? (
        await pool.query<{ commitment: string; salt: string; value: string }>(SALTS, [
          disclose.map((c) => Buffer.from(c, 'hex')),
        ])
      ).rows
    : [];
  const entries: SealedEntry[] = places.map((place) => {
    const state = states.get(place.commitment) ?? { state: 'missing' as const };
    const disclosed = salts.find((row) => row.commitment === place.commitment);
    return {
      seq: place.seq,
      eventId: place.eventId,
      pointer: place.pointer,
      commitment: place.commitment,
      state: state.state,
      ...(state.state === 'erased'
        ? { erased: { at: state.at, by: state.by, reason: state.reason, record: state.record, kind: state.kind } }
        : {}),
      ...(disclosed ? { disclosure: { salt: disclosed.salt, value: JSON.parse(disclosed.value) as unknown } } : {}),
    };
  });
  return Buffer.from(`${JSON.stringify({ v: 1, values: entries }, null, 1)}\n`, 'utf8');
}
