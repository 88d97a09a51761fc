import type pg from 'pg';
import { WritError } from '../../model/errors.js';
import type {
  ApprovalEvent,
  OperationSummary,
  PlannedTarget,
  RecentEvent,
  StepOutcome,
  TimelineEvent,
  WhatHappened,
} from './types.js';

/** A pool, or one connection of it: warming a pool runs the lookups on each of its connections. */
type Queryable = pg.Pool | pg.PoolClient;

interface OperationRow {
  operation_id: string;
  chain_id: string;
  correlation_id: string | null;
  actor: OperationSummary['actor'];
  intent: string | null;
  mode: string | null;
  targets: PlannedTarget[];
  policy_id: string | null;
  risk: string | null;
  approvals_required: number | null;
  first_seq: number | string;
  last_seq: number | string;
  started_at: Date;
  last_event_at: Date;
  closed_at: Date | null;
  state: string | null;
  outcome: string | null;
  last_event_type: string;
  steps: Record<string, Omit<StepOutcome, 'index'>>;
  events: number;
  approvals_granted: number;
  approvals_refused: number;
  approvals_rejected: number;
  approvals_stale: number;
  compensations: number;
  compensation_failures: number;
  manual_events: number;
  approval_trail: ApprovalEvent[];
  recent: RecentEvent[];
  by_operation: boolean;
}

// Both lookups in one statement: the planner ORs the primary key and the correlation index, so
// an operation id and a correlation id cost the same single indexed read. Steps, latest events and
// the approval trail are worded from each operation's records (migration 0013), not kept in its
// row, for all the operations found in one call (migration 0016); both arrays in one order, so
// each operation goes with its own chain.
const SUMMARY = `
  WITH found AS MATERIALIZED (
    SELECT o.* FROM writ.operations o WHERE o.operation_id = $1 OR o.correlation_id = $1
  )
  SELECT o.*, o.operation_id = $1 AS by_operation, s.steps, s.recent, s.approval_trail
    FROM found o
    JOIN writ.operation_stories((SELECT array_agg(operation_id ORDER BY operation_id) FROM found),
                                (SELECT array_agg(chain_id ORDER BY operation_id) FROM found)) AS s
      ON s.operation_id = o.operation_id
   ORDER BY o.started_at, o.operation_id`;

/**
 * What happened under `id`, from the projection: the operation with that id, else every
 * operation sharing it as correlation id. Null when the projection knows neither.
 */
export async function whatHappened(pool: Queryable, id: string): Promise<WhatHappened | null> {
  const rows = (await query<OperationRow>(pool, SUMMARY, [id])).rows;
  if (!rows.length) return null;
  // An id that is both someone's operation id and others' correlation id means the operation.
  const byOperation = rows.filter((row) => row.by_operation);
  const chosen = byOperation.length ? byOperation : rows;
  return { id, matchedBy: byOperation.length ? 'operation' : 'correlation', operations: chosen.map(toSummary) };
}

interface RecordRow {
  chain_id: string;
  seq: number | string;
  event_id: string;
  hash: string;
  recorded_at: Date;
  /** The members of the record (jsonb) that a timeline event shows as they are. */
  record: Pick<
    TimelineEvent,
    'type' | 'operationId' | 'correlationId' | 'stepIndex' | 'state' | 'actor' | 'occurredAt' | 'payload'
  >;
  summary: string | null;
}

// Each branch is a range scan of its partial index on writ.records; the correlation branch runs
// only when no record names `id` as its operation, mirroring whatHappened's preference.
const TIMELINE = `
  WITH by_operation AS (
    SELECT r.chain_id, r.seq, r.event_id, encode(r.hash, 'hex') AS hash, r.recorded_at, r.record
      FROM writ.records r
     WHERE r.operation_id = $1
  ), by_correlation AS (
    SELECT r.chain_id, r.seq, r.event_id, encode(r.hash, 'hex') AS hash, r.recorded_at, r.record
      FROM writ.records r
     WHERE r.correlation_id = $1 AND NOT EXISTS (SELECT 1 FROM by_operation)
  )
  SELECT e.*, writ.event_summary(e.record) AS summary
    FROM (SELECT * FROM by_operation UNION ALL SELECT * FROM by_correlation) e
   ORDER BY e.chain_id, e.seq`;

/**
 * Every record of the operation `id` (else of the correlation id `id`, including records that
 * belong to no operation) in ledger order, read from writ.records itself rather than the
 * projection: this is the evidence, the projection only an index into it.
 */
export async function timeline(pool: Queryable, id: string): Promise<TimelineEvent[]> {
  const rows = (await query<RecordRow>(pool, TIMELINE, [id])).rows;
  return rows.map((row) => ({
    chainId: row.chain_id,
    seq: Number(row.seq),
    eventId: row.event_id,
    hash: row.hash,
    type: row.record.type,
    operationId: row.record.operationId ?? null,
    correlationId: row.record.correlationId ?? null,
    stepIndex: row.record.stepIndex ?? null,
    state: row.record.state ?? null,
    actor: row.record.actor,
    occurredAt: row.record.occurredAt,
    recordedAt: row.recorded_at.toISOString(),
    summary: row.summary,
    payload: row.record.payload ?? {},
  }));
}

/**
 * Runs each lookup once on a connection, so that the first person to ask on it does not pay for
 * PostgreSQL's per-session work: reading the catalog, compiling writ.operation_stories and planning
 * it (migrations 0015 and 0016). The ids match nothing; operation_stories is called directly
 * because the summary's join plans it only for operations it finds.
 */
export async function warmLookups(connection: pg.PoolClient): Promise<void> {
  await whatHappened(connection, '');
  await timeline(connection, '');
  await query(connection, `SELECT 1 FROM writ.operation_stories(ARRAY[''], ARRAY[''])`, []);
}

async function query<R extends pg.QueryResultRow>(
  pool: Queryable,
  sql: string,
  params: unknown[],
): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>(sql, params);
  } catch (error) {
    if ((error as { code?: string }).code === '42P01' || (error as { code?: string }).code === '42883') {
      throw new WritError(
        'CONFIG',
        `this database has no what-happened view (${(error as Error).message})`,
        'Apply the migrations with `writ migrate`; the view is built from the records already in the ledger.',
        { cause: error },
      );
    }
    throw error;
  }
}

function toSummary(row: OperationRow): OperationSummary {
  const startedAt = row.started_at;
  const endedAt = row.closed_at ?? row.last_event_at;
  const steps = Object.entries(row.steps ?? {})
    .map(([index, step]) => ({ index: Number(index), ...step }))
    .sort((a, b) => a.index - b.index);
  return {
    operationId: row.operation_id,
    chainId: row.chain_id,
    correlationId: row.correlation_id,
    actor: row.actor,
    intent: row.intent,
    mode: row.mode,
    targets: row.targets ?? [],
    policy: { id: row.policy_id, risk: row.risk, approvalsRequired: row.approvals_required },
    firstSeq: Number(row.first_seq),
    lastSeq: Number(row.last_seq),
    startedAt: startedAt.toISOString(),
    lastEventAt: row.last_event_at.toISOString(),
    closedAt: row.closed_at?.toISOString() ?? null,
    durationMs: Math.max(0, endedAt.getTime() - startedAt.getTime()),
    state: row.state,
    outcome: row.outcome,
    open: row.outcome === null,
    lastEventType: row.last_event_type,
    stepCount: steps.length,
    steps,
    events: row.events,
    approvals: {
      granted: row.approvals_granted,
      refused: row.approvals_refused,
      rejected: row.approvals_rejected,
      stale: row.approvals_stale,
      trail: row.approval_trail ?? [],
    },
    compensations: row.compensations,
    compensationFailures: row.compensation_failures,
    manualEvents: row.manual_events,
    recent: row.recent ?? [],
  };
}
