import type pg from 'pg';
import { disclosureMatches } from '../verify/sealed.js';

export type SealedFindingCode = 'SEALED_VALUE_MISSING' | 'SEALED_VALUE_MISMATCH' | 'SEALED_ERASURE_UNLISTED';

export interface SealedFinding {
  code: SealedFindingCode;
  chainId: string;
  seq: number;
  detail: string;
}

// Every marker in every record that has no value beside it: it must have a tombstone, and the
// record the tombstone names must list that commitment among what it erased or pruned.
const UNHELD_MARKERS = `
  SELECT r.chain_id, r.seq, m.commitment, e.erasure_event_id,
         er.event_type AS erasure_type,
         (er.record -> 'payload' -> 'erased') @> jsonb_build_array(jsonb_build_object('commitment', m.commitment))
           OR (er.record -> 'payload' -> 'pruned') @> jsonb_build_array(jsonb_build_object('commitment', m.commitment)) AS listed
    FROM writ.records r
   CROSS JOIN LATERAL (SELECT DISTINCT c #>> '{}' AS commitment
                         FROM jsonb_path_query(r.record -> 'payload', '$.**."writ:sealed"') AS c) AS m
    LEFT JOIN writ.sealed_values v ON v.commitment = decode(m.commitment, 'hex')
    LEFT JOIN writ.sealed_erasures e ON e.commitment = decode(m.commitment, 'hex')
    LEFT JOIN writ.records er ON er.event_id = e.erasure_event_id
   WHERE v.commitment IS NULL AND m.commitment ~ '^[0-9a-f]{64}$'
     -- A byte search first: only records whose canonical bytes hold a marker are walked as JSON.
     AND position('"writ:sealed":'::bytea IN r.canonical) > 0
   ORDER BY r.chain_id, r.seq`;

const HELD_VALUES = `
  SELECT v.chain_id, r.seq, encode(v.commitment, 'hex') AS commitment, v.pointer, v.salt, v.value
    FROM writ.sealed_values v
    JOIN writ.records r ON r.chain_id = v.chain_id AND r.idempotency_key = v.idempotency_key`;

/**
 * What `writ verify` says of the values kept beside the ledger: a value gone with no record saying
 * why (only a superuser can do that), a tombstone whose record does not list it, a value that does
 * not hash to the commitment its record holds.
 */
export async function checkSealedValues(pool: pg.Pool): Promise<SealedFinding[]> {
  const findings: SealedFinding[] = [];
  const unheld = await pool.query<{
    chain_id: string;
    seq: string;
    commitment: string;
    erasure_event_id: string | null;
    listed: boolean | null;
  }>(UNHELD_MARKERS);
  for (const row of unheld.rows) {
    const at = { chainId: row.chain_id, seq: Number(row.seq) };
    if (!row.erasure_event_id)
      findings.push({
        code: 'SEALED_VALUE_MISSING',
        ...at,
        detail: `record ${row.seq} commits to ${row.commitment}, whose value is gone with no erasure or retention record`,
      });
    else if (!row.listed)
      findings.push({
        code: 'SEALED_ERASURE_UNLISTED',
        ...at,
        detail: `the value of ${row.commitment} (record ${row.seq}) was deleted under record ${row.erasure_event_id}, which does not list it`,
      });
  }
  const held = await pool.query<{
    chain_id: string;
    seq: string;
    commitment: string;
    pointer: string;
    salt: string;
    value: string;
  }>(HELD_VALUES);
  for (const row of held.rows)
    if (
      !disclosureMatches(
        { salt: row.salt, pointer: row.pointer, value: JSON.parse(row.value) as unknown },
        row.commitment,
      )
    )
      findings.push({
        code: 'SEALED_VALUE_MISMATCH',
        chainId: row.chain_id,
        seq: Number(row.seq),
        detail: `the value kept for ${row.commitment} at ${row.pointer} of record ${row.seq} does not hash to that commitment`,
      });
  return findings;
}
