/**
 * Whether writ.holds says what the ledger's hold records say. The table is written only by the
 * trigger that reads those records, so a difference means someone with more power than Writ's
 * roles (an owner, a superuser) wrote it by hand, or a record was appended with triggers off.
 */
import type pg from 'pg';

interface HoldRecord {
  type?: string;
  actor?: { id?: unknown };
  payload?: { holdId?: unknown; reason?: unknown; scope?: unknown };
}

interface Fact {
  chain: string;
  seq: number;
  by: string;
  reason: string;
  scope: string | null;
}

/** Every difference between the hold records and writ.holds, one sentence each; [] when they agree. */
export async function holdProjectionDisagreements(pool: pg.Pool): Promise<string[]> {
  const fromRecords = await factsFromRecords(pool);
  const fromTable = await factsFromTable(pool);
  const problems: string[] = [];
  for (const [key, fact] of fromRecords) {
    const stored = fromTable.get(key);
    if (!stored) problems.push(`${key}: on the ledger (chain ${fact.chain} record ${fact.seq}) but not in writ.holds`);
    else
      for (const field of ['chain', 'seq', 'by', 'reason', 'scope'] as const)
        if (stored[field] !== fact[field])
          problems.push(
            `${key}: ${field} is ${String(stored[field])} in writ.holds, ${String(fact[field])} on the ledger`,
          );
  }
  for (const [key, fact] of fromTable)
    if (!fromRecords.has(key)) problems.push(`${key}: in writ.holds (as record ${fact.seq}) but not on the ledger`);
  return problems;
}

async function factsFromRecords(pool: pg.Pool): Promise<Map<string, Fact>> {
  const { rows } = await pool.query<{ chain_id: string; seq: string; record: HoldRecord }>(
    `SELECT chain_id, seq, record FROM writ.records WHERE event_type IN ('hold.placed', 'hold.released') ORDER BY chain_id, seq`,
  );
  const facts = new Map<string, Fact>();
  for (const { chain_id, seq, record } of rows) {
    const placed = record.type === 'hold.placed';
    const key = `${String(record.payload?.holdId)} ${placed ? 'placed' : 'released'}`;
    // The first record of a kind is the one the trigger kept; it refuses any later one.
    if (facts.has(key)) continue;
    facts.set(key, {
      chain: chain_id,
      seq: Number(seq),
      by: String(record.actor?.id),
      reason: String(record.payload?.reason),
      scope: placed ? scopeText(record.payload?.scope) : null,
    });
  }
  return facts;
}

async function factsFromTable(pool: pg.Pool): Promise<Map<string, Fact>> {
  const { rows } = await pool.query<{
    key: string;
    chain_id: string;
    seq: string;
    by_id: string;
    reason: string;
    scope: Record<string, string> | null;
  }>(`
    SELECT hold_id::text || ' ' || event AS key, chain_id, seq, by_id, reason,
           CASE WHEN event = 'placed' THEN jsonb_strip_nulls(jsonb_build_object(
             'operationId', scope_operation_id, 'correlationId', scope_correlation_id, 'actorId', scope_actor_id,
             'from', to_char(scope_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'to', to_char(scope_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) END AS scope
      FROM writ.holds`);
  return new Map(
    rows.map((row) => [
      row.key,
      { chain: row.chain_id, seq: Number(row.seq), by: row.by_id, reason: row.reason, scope: scopeText(row.scope) },
    ]),
  );
}

/** A scope as one comparable string, its members in a fixed order. */
function scopeText(scope: unknown): string | null {
  if (!scope || typeof scope !== 'object') return null;
  const members = Object.entries(scope as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify(members);
}
