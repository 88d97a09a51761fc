import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { TestLedger } from './db.js';
import { ledgerEvents } from './writ.js';

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export function ed25519(): KeyPair {
  return generateKeyPairSync('ed25519');
}

/** A public key as a directory lists it: base64 of the 32 raw bytes. */
export function rawPublic(key: KeyObject): string {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
}

/** The records of an operation, with the actor each one names. */
export async function recordsWithActor(
  ledger: TestLedger,
  operationId: string,
): Promise<Array<{ type: string; actor: { id: string; identity?: string; groups?: string[] } }>> {
  const result = await ledger.pool.query(`SELECT record FROM writ.records WHERE operation_id = $1 ORDER BY seq`, [
    operationId,
  ]);
  return result.rows.map((row) => ({ type: row.record.type, actor: row.record.actor }));
}

/** The refusal an unplanned operation was recorded with, and proof it never reached a step. */
export async function refusedAtPlan(
  ledger: TestLedger,
  operationId: string,
): Promise<{ problem: string; identity: Record<string, unknown> | undefined; types: string[] }> {
  const events = await ledgerEvents(ledger, operationId);
  const planned = events.find((event) => event.type === 'operation.planned');
  return {
    problem: String(planned?.payload.problem ?? ''),
    identity: planned?.payload.identity as Record<string, unknown> | undefined,
    types: events.map((event) => event.type),
  };
}

export async function tierOf(ledger: TestLedger, id = 42): Promise<string> {
  return (await ledger.pool.query(`SELECT tier FROM accounts WHERE id = $1`, [id])).rows[0].tier;
}
