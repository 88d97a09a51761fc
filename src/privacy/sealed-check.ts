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
  WITH markers AS MATERIALIZED (
    -- A byte search first: only records whose canonical bytes hold a marker are walked as JSON.
    SELECT r.chain_id, r.seq, c #>> '{}' AS commitment
      FROM writ.records r
     CROSS JOIN LATERAL jsonb_path_query(r.record -> 'payload', '$.**."writ:sealed"') AS c
     WHERE position('"writ:sealed":'::bytea IN r.canonical) > 0
  ), unheld AS MATERIALIZED (
    -- Compared as hex text, so a marker a writer forged with anything else is simply unheld.
    SELECT DISTINCT m.* FROM markers m
     WHERE NOT EXISTS (SELECT 1 FROM writ.sealed_values v WHERE encode(v.commitment, 'hex') = m.commitment)
  )
  SELECT u.chain_id, u.seq, u.commitment, e.erasure_event_id,
         (er.record -> 'payload' -> 'erased') @> jsonb_build_array(jsonb_build_object('commitment', u.commitment))
           OR (er.record -> 'payload' -> 'pruned') @> jsonb_build_array(jsonb_build_object('commitment', u.commitment)) AS listed
    FROM unheld u
    LEFT JOIN writ.sealed_erasures e ON encode(e.commitment, 'hex') = u.commitment
    LEFT JOIN writ.records er ON er.event_id = e.erasure_event_id
   ORDER BY u.chain_id, u.seq`;

const HELD_VALUES = `
  SELECT v.chain_id, v.idempotency_key, encode(v.commitment, 'hex') AS commitment, v.pointer, v.salt, v.value
    FROM writ.sealed_values v`;

// Only for a value that does not hash: which record it belongs to.
const SEQ_OF = `SELECT seq FROM writ.records WHERE chain_id = $1 AND idempotency_key = $2`;

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
    idempotency_key: string;
    commitment: string;
    pointer: string;
    salt: string;
    value: string;
  }>(HELD_VALUES);
  for (const row of held.rows) {
    const value = JSON.parse(row.value) as unknown;
    if (disclosureMatches({ salt: row.salt, pointer: row.pointer, value }, row.commitment)) continue;
    const seq = Number((await pool.query<{ seq: string }>(SEQ_OF, [row.chain_id, row.idempotency_key])).rows[0]?.seq);
    findings.push({
      code: 'SEALED_VALUE_MISMATCH',
      chainId: row.chain_id,
      seq,
      detail: `the value kept for ${row.commitment} at ${row.pointer} of record ${seq} does not hash to that commitment`,
    });
  }
  return findings;
}
