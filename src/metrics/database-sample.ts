import type pg from 'pg';
import { checkOut } from '../db/check-out.js';

/** What the ledger's database says at one scrape. */
export interface DatabaseSample {
  /** Operations by their current state (closed ones included). */
  operations: Array<{ state: string; count: number }>;
  compensated: number;
  compensationFailed: number;
  failedOperations: number;
  approvalsWaiting: number;
  /** Seconds since the longest-waiting operation asked for approval; 0 when none waits. */
  oldestApprovalSeconds: number;
  /** Seconds since each chain's newest checkpoint. */
  checkpoints: Array<{ chain: string; ageSeconds: number }>;
}

// States and outcomes that mean a step failed (to execute, or to verify) somewhere on the way.
const FAILED_STATES = `('execution_failed', 'verification_failed', 'compensating', 'compensated', 'compensation_failed', 'needs_intervention')`;
const FAILED_OUTCOMES = `('failed', 'rolled_back', 'resolved_manually')`;

// One pass over the projection (one row per operation, not per record) gives every total.
const OPERATIONS = `
  SELECT coalesce(o.state, 'unknown') AS state,
         count(*)::float8 AS count,
         sum(o.compensations)::float8 AS compensated,
         sum(o.compensation_failures)::float8 AS compensation_failed,
         (count(*) FILTER (WHERE o.state IN ${FAILED_STATES} OR o.outcome IN ${FAILED_OUTCOMES}))::float8 AS failed
    FROM writ.operations o
   GROUP BY 1`;

// When approval was last asked for (a stale approval asks again), from the operation's records
// (its index gives them in order); the operation's start if none asked, which errs towards older.
const APPROVALS = `
  SELECT count(*)::float8 AS waiting,
         coalesce(greatest(0, extract(epoch FROM now() - min(w.asked_at))), 0)::float8 AS oldest_seconds
    FROM (SELECT coalesce((SELECT max(writ.occurred_at(r.record ->> 'occurredAt', o.started_at))
                             FROM writ.records r
                            WHERE r.operation_id = o.operation_id AND r.chain_id = o.chain_id
                              AND r.event_type = 'approval.requested'), o.started_at) AS asked_at
            FROM writ.operations o
           WHERE o.state = 'awaiting_approval') w`;

// The newest checkpoint of each chain, read along the primary key (chain_id, size).
const CHECKPOINTS = `
  SELECT c.chain_id AS chain, greatest(0, extract(epoch FROM now() - c.created_at))::float8 AS age_seconds
    FROM (SELECT DISTINCT ON (chain_id) chain_id, created_at FROM writ.checkpoints ORDER BY chain_id, size DESC) c`;

interface OperationRow {
  state: string;
  count: number;
  compensated: number;
  compensation_failed: number;
  failed: number;
}

/** Reads a sample; the pool's statement timeout bounds each query. */
export async function readDatabaseSample(pool: pg.Pool): Promise<DatabaseSample> {
  const { client, release } = await checkOut(pool);
  let failed = false;
  try {
    const operations = (await client.query<OperationRow>(OPERATIONS)).rows;
    const approvals = (await client.query<{ waiting: number; oldest_seconds: number }>(APPROVALS)).rows[0];
    const checkpoints = (await client.query<{ chain: string; age_seconds: number }>(CHECKPOINTS)).rows;
    const total = (pick: (row: OperationRow) => number) => operations.reduce((sum, row) => sum + pick(row), 0);
    return {
      operations: operations.map((row) => ({ state: row.state, count: row.count })),
      compensated: total((row) => row.compensated),
      compensationFailed: total((row) => row.compensation_failed),
      failedOperations: total((row) => row.failed),
      approvalsWaiting: approvals?.waiting ?? 0,
      oldestApprovalSeconds: approvals?.oldest_seconds ?? 0,
      checkpoints: checkpoints.map((row) => ({ chain: row.chain, ageSeconds: row.age_seconds })),
    };
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // A query abandoned on the client's side leaves its connection mid-conversation: drop it.
    release(failed);
  }
}
