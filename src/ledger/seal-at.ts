import { randomBytes } from 'node:crypto';
import { canonicalBytes } from '../verify/canonical.js';
import { MIN_SALT_BYTES, pointerParts, sealedCommitment, sealedMarker } from '../verify/sealed.js';
import type { CanonicalRecord, PreparedRecord, SealedRow } from './record.js';

export interface SealPlace {
  /** RFC 6901 pointer within the payload. */
  pointer: string;
  subject: string;
}

/**
 * Seals the payload members at the given places: for records the ledger writes itself around a
 * sealed record (a key conflict keeps the refused record in full), so its personal values stay
 * erasable there too, under the same subjects.
 */
export function sealAt(
  prepared: PreparedRecord,
  places: readonly SealPlace[],
  salts?: ReadonlyMap<string, string>,
): PreparedRecord {
  const open = prepared.record;
  const payload = structuredClone(open.payload);
  const rows: SealedRow[] = [];
  for (const place of places) {
    const parts = pointerParts(place.pointer);
    const name = parts.pop();
    let holder: unknown = payload;
    for (const part of parts)
      holder = holder && typeof holder === 'object' ? (holder as Record<string, unknown>)[part] : undefined;
    if (name === undefined || !holder || typeof holder !== 'object' || !(name in holder)) continue;
    const container = holder as Record<string, unknown>;
    const salt = salts?.get(place.pointer) ?? randomBytes(MIN_SALT_BYTES * 2).toString('base64url');
    const value = container[name];
    const commitment = sealedCommitment(salt, place.pointer, value);
    rows.push({ pointer: place.pointer, subject: place.subject, salt, value, commitment });
    container[name] = sealedMarker(commitment);
  }
  if (!rows.length) return prepared;
  const record: CanonicalRecord = { ...open, payload };
  return {
    record,
    canonical: canonicalBytes(record),
    sealed: { rows, open, reseal: (given) => sealAt(prepared, places, given) },
  };
}
