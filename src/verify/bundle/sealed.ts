import { disclosureMatches, pointerParts, sealedMarkerOf, sealedPlaces } from '../sealed.js';
import { RECORDS_JSONL, SEALED } from './format.js';
import type { Bad } from './manifest.js';
import type { ParsedRecord } from './parse.js';
import { isObject, parseJson } from './parse.js';

export interface BundleSealed {
  /** Commitments the bundle's records hold. */
  values: number;
  /** Values erased or expired by export time, as sealed.json says (the manifest's signature covers it). */
  erased: number;
  /** Values sealed.json discloses, each checked against its commitment. */
  disclosed: number;
}

/** The member of a payload a JSON pointer names, or undefined. */
function at(payload: unknown, pointer: string): unknown {
  let value: unknown = payload;
  for (const part of pointerParts(pointer)) {
    if (Array.isArray(value)) value = /^(0|[1-9][0-9]*)$/.test(part) ? value[Number(part)] : undefined;
    else value = isObject(value) ? value[part] : undefined;
  }
  return value;
}

interface SealedEntry {
  seq: number;
  pointer: string;
  commitment: string;
  disclosure: unknown;
}

function checkDisclosure(entry: SealedEntry, bad: Bad): boolean {
  const disclosure = entry.disclosure;
  const checks =
    isObject(disclosure) &&
    typeof disclosure.salt === 'string' &&
    'value' in disclosure &&
    disclosureMatches({ salt: disclosure.salt, pointer: entry.pointer, value: disclosure.value }, entry.commitment);
  if (!checks)
    bad(
      SEALED,
      'DISCLOSURE_INVALID',
      `the value disclosed for ${entry.pointer} of record ${entry.seq} does not hash to its commitment`,
      entry.seq,
    );
  return checks;
}

/**
 * sealed.json: every entry names a commitment its record really holds at that pointer; every
 * commitment in the records has an entry; a disclosure hashes to its commitment. Erasure states
 * are the exporter's word, covered by the manifest: the erasure records themselves are in the ledger.
 */
export function checkSealed(data: Buffer | undefined, records: readonly ParsedRecord[], bad: Bad): BundleSealed {
  const held = records.flatMap((r) => sealedPlaces(r.record?.payload).map((place) => ({ ...place, seq: r.seq })));
  const summary: BundleSealed = { values: held.length, erased: 0, disclosed: 0 };
  if (data === undefined) {
    if (held.length)
      bad(SEALED, 'SEALED_UNLISTED', `the records hold ${held.length} commitment(s) and sealed.json is missing`);
    return summary;
  }
  const file = parseJson(data, (problem) => bad(SEALED, 'SEALED_MALFORMED', problem));
  if (!isObject(file) || file.v !== 1 || !Array.isArray(file.values)) {
    if (file !== undefined) bad(SEALED, 'SEALED_MALFORMED', 'expected {"v": 1, "values": [...]}');
    return summary;
  }
  const listed = new Set<string>();
  const bySeq = new Map(records.map((r) => [r.seq, r]));
  for (const entry of file.values as unknown[]) {
    if (
      !isObject(entry) ||
      typeof entry.seq !== 'number' ||
      typeof entry.pointer !== 'string' ||
      typeof entry.commitment !== 'string'
    ) {
      bad(SEALED, 'SEALED_MALFORMED', `an entry is not {seq, pointer, commitment, state}: ${JSON.stringify(entry)}`);
      continue;
    }
    const record = bySeq.get(entry.seq);
    if (!record || sealedMarkerOf(at(record.record?.payload, entry.pointer)) !== entry.commitment) {
      bad(
        SEALED,
        'SEALED_NOT_IN_RECORD',
        `record ${entry.seq} holds no commitment ${entry.commitment} at ${entry.pointer}`,
        entry.seq,
      );
      continue;
    }
    listed.add(`${entry.seq}${entry.pointer}`);
    if (entry.state === 'erased') summary.erased++;
    if (
      entry.disclosure !== undefined &&
      checkDisclosure(
        { seq: entry.seq, pointer: entry.pointer, commitment: entry.commitment, disclosure: entry.disclosure },
        bad,
      )
    )
      summary.disclosed++;
  }
  for (const place of held)
    if (!listed.has(`${place.seq}${place.pointer}`))
      bad(
        RECORDS_JSONL,
        'SEALED_UNLISTED',
        `record ${place.seq} holds commitment ${place.commitment} at ${place.pointer}, which sealed.json does not list`,
        place.seq,
      );
  return summary;
}
