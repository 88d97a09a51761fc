import type pg from 'pg';
import { canonicalText } from '../verify/canonical.js';
import { escapePointer, sealedMarkerOf } from '../verify/sealed.js';
import { inTransaction } from '../db/transaction.js';
import { insertRecords, keyOf } from './append-sql.js';
import type { Inserted } from './append-sql.js';
import type { LinkColumns } from './chain-head.js';
import type { PreparedRecord } from './record.js';

// The values go in with their records, in one transaction: a value never outlives a record that
// was not written, and a record is never written without the values it commits to.
const INSERT_SEALED = `
  INSERT INTO writ.sealed_values
    (commitment, chain_id, idempotency_key, pointer, subject, salt, value, record_type,
     operation_id, correlation_id, actor_id, occurred_at)
  SELECT decode(c, 'hex'), ch, k, p, s, salt, v, t, op, corr, a, at::timestamptz
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
      AS input(c, ch, k, p, s, salt, v, t, op, corr, a, at)`;

const STORED_SALTS = `
  SELECT chain_id, idempotency_key, pointer, salt, value FROM writ.sealed_values
   WHERE (chain_id, idempotency_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;

export function hasSealed(records: readonly PreparedRecord[]): boolean {
  return records.some((prepared) => prepared.sealed?.rows.length);
}

export function insertWithSealed(
  pool: pg.Pool,
  records: PreparedRecord[],
  links: LinkColumns | null = null,
): Promise<Inserted> {
  // A taken key or a refused link writes nothing (the insert was refused): the empty transaction commits as nothing.
  return inTransaction(pool, async (client) => {
    const inserted = await insertRecords(client, records, links);
    if (Array.isArray(inserted)) await insertSealed(client, records);
    return inserted;
  });
}

async function insertSealed(client: pg.PoolClient, records: PreparedRecord[]): Promise<void> {
  const columns: string[][] = Array.from({ length: 12 }, () => []);
  for (const { record, sealed } of records)
    for (const row of sealed?.rows ?? []) {
      const values = [
        row.commitment,
        record.chain,
        record.idempotencyKey,
        row.pointer,
        row.subject,
        row.salt,
        canonicalText(row.value),
        record.type,
        record.operationId,
        record.correlationId,
        record.actor.id,
        record.occurredAt,
      ];
      values.forEach((value, index) => columns[index]!.push(value as string));
    }
  if (columns[0]!.length) await client.query(INSERT_SEALED, columns);
}

export interface StoredValue {
  salt: string;
  value: unknown;
}

/** What earlier writes of these records' keys sealed, by key and pointer (nothing once erased). */
export async function storedSealed(
  pool: pg.Pool,
  records: readonly PreparedRecord[],
): Promise<Map<string, Map<string, StoredValue>>> {
  const sealed = records.filter((prepared) => prepared.sealed);
  const stored = new Map<string, Map<string, StoredValue>>();
  if (!sealed.length) return stored;
  const { rows } = await pool.query<{
    chain_id: string;
    idempotency_key: string;
    pointer: string;
    salt: string;
    value: string;
  }>(STORED_SALTS, [sealed.map((p) => p.record.chain), sealed.map((p) => p.record.idempotencyKey)]);
  for (const row of rows) {
    const key = keyOf(row.chain_id, row.idempotency_key);
    if (!stored.has(key)) stored.set(key, new Map());
    stored.get(key)!.set(row.pointer, { salt: row.salt, value: JSON.parse(row.value) as unknown });
  }
  return stored;
}

/**
 * An earlier record as its writer meant it: the values stored beside it put back where their
 * markers are, so a retry carries on from the state it recorded, not from a commitment.
 */
export function openedAt(
  record: Record<string, unknown>,
  values: ReadonlyMap<string, StoredValue>,
): Record<string, unknown> {
  const open = (value: unknown, pointer: string): unknown => {
    if (sealedMarkerOf(value)) return values.has(pointer) ? values.get(pointer)!.value : value;
    if (Array.isArray(value)) return value.map((inner, index) => open(inner, `${pointer}/${index}`));
    if (value && typeof value === 'object')
      return Object.fromEntries(
        Object.entries(value).map(([name, inner]) => [name, open(inner, `${pointer}/${escapePointer(name)}`)]),
      );
    return value;
  };
  return { ...record, payload: open(record.payload, '') };
}

/** The record with every sealed value replaced by null: what two writes of one event share once erased. */
export function withoutSealedValues(value: unknown): unknown {
  if (sealedMarkerOf(value)) return null;
  if (Array.isArray(value)) return value.map(withoutSealedValues);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, withoutSealedValues(inner)]));
  return value;
}
