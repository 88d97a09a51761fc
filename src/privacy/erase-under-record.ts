import type pg from 'pg';
import { insertRecords } from '../ledger/append-sql.js';
import type { RecordDraft } from '../ledger/record.js';
import { prepareRecord } from '../ledger/record.js';

/** A stored value as erasure and retention see it: where it sits, and what could hold it. */
export interface HeldValue {
  commitment: string;
  chain: string;
  idempotencyKey: string;
  pointer: string;
  recordType: string;
  operationId: string | null;
  correlationId: string | null;
  actorId: string | null;
  occurredAt: string;
  /** The legal hold that keeps it, if any. */
  hold: string | null;
}

export const SELECT_VALUES = `
  SELECT encode(v.commitment, 'hex') AS commitment, v.chain_id, v.idempotency_key, v.pointer, v.record_type,
         v.operation_id, v.correlation_id, v.actor_id, v.occurred_at,
         writ.hold_covering(v.operation_id, v.correlation_id, v.actor_id, v.occurred_at) AS hold
    FROM writ.sealed_values v`;

interface ValueRow {
  commitment: string;
  chain_id: string;
  idempotency_key: string;
  pointer: string;
  record_type: string;
  operation_id: string | null;
  correlation_id: string | null;
  actor_id: string | null;
  occurred_at: Date;
  hold: string | null;
}

export async function selectValues(client: pg.PoolClient, where: string, params: unknown[]): Promise<HeldValue[]> {
  const { rows } = await client.query<ValueRow>(
    `${SELECT_VALUES} ${where} ORDER BY v.chain_id, v.occurred_at FOR UPDATE OF v`,
    params,
  );
  return rows.map((row) => ({
    commitment: row.commitment,
    chain: row.chain_id,
    idempotencyKey: row.idempotency_key,
    pointer: row.pointer,
    recordType: row.record_type,
    operationId: row.operation_id,
    correlationId: row.correlation_id,
    actorId: row.actor_id,
    occurredAt: row.occurred_at.toISOString(),
    hold: row.hold,
  }));
}

/** What a deletion record lists for each value: enough to find its marker in the ledger. */
export function valueRefs(values: readonly HeldValue[]) {
  return values.map((value) => ({ key: value.idempotencyKey, pointer: value.pointer, commitment: value.commitment }));
}

/**
 * Appends the record that says why, then deletes the values under it, in the caller's
 * transaction: both happen or neither does. The database refuses the deletion without the record
 * and under a legal hold, whoever asks.
 */
export async function deleteUnderRecord(
  client: pg.PoolClient,
  draft: RecordDraft,
  values: readonly HeldValue[],
): Promise<{ eventId: string; seq: number }> {
  const prepared = prepareRecord(draft);
  const inserted = await insertRecords(client, [prepared]);
  if (!Array.isArray(inserted))
    throw new Error(`the ledger already holds a record under ${prepared.record.idempotencyKey}`);
  await client.query(`SELECT set_config('writ.erasure_event', $1, true)`, [prepared.record.eventId]);
  await client.query(`DELETE FROM writ.sealed_values WHERE commitment = ANY($1::bytea[])`, [
    values.map((value) => Buffer.from(value.commitment, 'hex')),
  ]);
  return { eventId: prepared.record.eventId, seq: Number(inserted[0]!.seq) };
}
