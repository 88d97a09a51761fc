import type pg from 'pg';

/** One ledger record as the report reads it: the jsonb copy, which the chain check proves equal to the hashed bytes. */
export interface ReportRecord {
  chain: string;
  seq: number;
  type: string;
  operationId: string | null;
  occurredAt: string;
  state: string | null;
  stepIndex: number | null;
  actor: { id?: string; kind?: string; identity?: string };
  payload: Record<string, unknown>;
}

export interface Window {
  from: Date;
  to: Date;
}

interface Row {
  chain_id: string;
  seq: string | number;
  record: {
    type: string;
    operationId: string | null;
    occurredAt: string;
    state: string | null;
    stepIndex: number | null;
    actor: ReportRecord['actor'];
    payload: Record<string, unknown> | null;
  };
}

function toRecord(row: Row): ReportRecord {
  const r = row.record;
  return {
    chain: row.chain_id,
    seq: Number(row.seq),
    type: r.type,
    operationId: r.operationId ?? null,
    occurredAt: r.occurredAt,
    state: r.state ?? null,
    stepIndex: r.stepIndex ?? null,
    actor: r.actor ?? {},
    payload: r.payload ?? {},
  };
}

const OCCURRED = `(record->>'occurredAt')::timestamptz`;

// The same population as `writ export --from --to`: every operation whose first record occurred in [from, to).
const POPULATION = `
  SELECT chain_id, seq, record FROM writ.records
   WHERE operation_id IN (SELECT operation_id FROM writ.records WHERE operation_id IS NOT NULL
                           GROUP BY operation_id HAVING min(${OCCURRED}) >= $1 AND min(${OCCURRED}) < $2)
   ORDER BY chain_id, seq`;

// Records outside any operation of the population that a reviewer must see: hand-written ones,
// reads of the evidence, key conflicts.
const LOOSE = `
  SELECT chain_id, seq, record FROM writ.records
   WHERE ${OCCURRED} >= $1 AND ${OCCURRED} < $2
     AND (event_type LIKE 'manual.%' OR event_type LIKE 'evidence.%' OR event_type = 'ledger.key_conflict')
     AND (operation_id IS NULL OR NOT (operation_id = ANY($3::text[])))
   ORDER BY chain_id, seq`;

// Operations that started before the window (or after it, by a writer's clock) but have records in it.
const STRADDLING = `
  SELECT DISTINCT operation_id FROM writ.records
   WHERE ${OCCURRED} >= $1 AND ${OCCURRED} < $2 AND operation_id IS NOT NULL
     AND event_type NOT LIKE 'manual.%' AND NOT (operation_id = ANY($3::text[]))
   ORDER BY operation_id`;

export interface WindowRecords {
  /** Every record of every operation in the population, in (chain, seq) order. */
  operations: ReportRecord[];
  /** manual.*, evidence.* and ledger.key_conflict records in the window outside those operations. */
  loose: ReportRecord[];
  /** Operations with records in the window whose first record is outside it (not in the population). */
  straddling: string[];
}

export async function readWindow(pool: pg.Pool, window: Window): Promise<WindowRecords> {
  const bounds = [window.from.toISOString(), window.to.toISOString()];
  const operations = (await pool.query<Row>(POPULATION, bounds)).rows.map(toRecord);
  const ids = [...new Set(operations.map((r) => r.operationId!))];
  const loose = (await pool.query<Row>(LOOSE, [...bounds, ids])).rows.map(toRecord);
  const straddling = (await pool.query<{ operation_id: string }>(STRADDLING, [...bounds, ids])).rows.map(
    (row) => row.operation_id,
  );
  return { operations, loose, straddling };
}

/** The directories of people recorded under these versions, by version (governance.directory, FORMAT 1.3). */
export async function readDirectories(pool: pg.Pool, versions: readonly string[]): Promise<Map<string, unknown>> {
  if (!versions.length) return new Map();
  const result = await pool.query<{ record: { payload: { version: string; directory: unknown } } }>(
    `SELECT record FROM writ.records WHERE event_type = 'governance.directory' AND idempotency_key = ANY($1::text[])`,
    [versions.map((v) => `governance/directory/${v}`)],
  );
  return new Map(result.rows.map((row) => [row.record.payload.version, row.record.payload.directory]));
}

/** Every `manual.review` record filed under these operations, whenever it was written. */
export async function readReviews(pool: pg.Pool, operationIds: readonly string[]): Promise<ReportRecord[]> {
  if (!operationIds.length) return [];
  const result = await pool.query<Row>(
    `SELECT chain_id, seq, record FROM writ.records WHERE event_type = 'manual.review' AND operation_id = ANY($1::text[]) ORDER BY chain_id, seq`,
    [operationIds],
  );
  return result.rows.map(toRecord);
}
