/** Holds as writ.holds has them: one placing row, and a release row once released. */
import type pg from 'pg';
import type { HoldScope } from './hold-input.js';

export interface Hold {
  holdId: string;
  scope: HoldScope;
  reason: string;
  /** Who placed it (an asserted id) and when (the record's occurredAt, RFC 3339 UTC). */
  placedBy: string;
  placedAt: string;
  chain: string;
  seq: number;
  released: { by: string; reason: string; at: string; seq: number } | null;
}

interface HoldRow {
  hold_id: string;
  chain_id: string;
  seq: string;
  occurred_at: Date;
  by_id: string;
  reason: string;
  scope_operation_id: string | null;
  scope_correlation_id: string | null;
  scope_actor_id: string | null;
  scope_from: Date | null;
  scope_to: Date | null;
  released_by: string | null;
  released_reason: string | null;
  released_at: Date | null;
  released_seq: string | null;
}

const HOLDS = `
  SELECT p.hold_id::text, p.chain_id, p.seq, p.occurred_at, p.by_id, p.reason,
         p.scope_operation_id, p.scope_correlation_id, p.scope_actor_id, p.scope_from, p.scope_to,
         r.by_id AS released_by, r.reason AS released_reason, r.occurred_at AS released_at, r.seq AS released_seq
    FROM writ.holds p
    LEFT JOIN writ.holds r ON r.hold_id = p.hold_id AND r.event = 'released'
   WHERE p.event = 'placed'`;

/** Holds in force (placed, not released), oldest first. */
export async function activeHolds(pool: pg.Pool): Promise<Hold[]> {
  const { rows } = await pool.query<HoldRow>(`${HOLDS} AND r.hold_id IS NULL ORDER BY p.chain_id, p.seq`);
  return rows.map(holdOf);
}

/** Every hold ever placed, released or not, oldest first. */
export async function allHolds(pool: pg.Pool): Promise<Hold[]> {
  const { rows } = await pool.query<HoldRow>(`${HOLDS} ORDER BY p.chain_id, p.seq`);
  return rows.map(holdOf);
}

export async function findHold(pool: pg.Pool, holdId: string): Promise<Hold | null> {
  const { rows } = await pool.query<HoldRow>(`${HOLDS} AND p.hold_id = $1::uuid`, [holdId]);
  return rows[0] ? holdOf(rows[0]) : null;
}

function holdOf(row: HoldRow): Hold {
  return {
    holdId: row.hold_id,
    scope: scopeOf(row),
    reason: row.reason,
    placedBy: row.by_id,
    placedAt: row.occurred_at.toISOString(),
    chain: row.chain_id,
    seq: Number(row.seq),
    released:
      row.released_seq === null
        ? null
        : {
            by: row.released_by!,
            reason: row.released_reason!,
            at: row.released_at!.toISOString(),
            seq: Number(row.released_seq),
          },
  };
}

function scopeOf(row: HoldRow): HoldScope {
  if (row.scope_operation_id !== null) return { operationId: row.scope_operation_id };
  if (row.scope_correlation_id !== null) return { correlationId: row.scope_correlation_id };
  if (row.scope_actor_id !== null) return { actorId: row.scope_actor_id };
  return { from: row.scope_from!.toISOString(), to: row.scope_to!.toISOString() };
}

/** One line a person reads: what the hold covers. */
export function describeScope(scope: HoldScope): string {
  if ('operationId' in scope) return `operation ${scope.operationId}`;
  if ('correlationId' in scope) return `correlation ${scope.correlationId}`;
  if ('actorId' in scope) return `actor ${scope.actorId}`;
  return `occurred ${scope.from} .. ${scope.to}`;
}
