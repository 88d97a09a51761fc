import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { timeline, whatHappened } from '../../src/evidence/what-happened/index.js';
import type { OperationSummary, WhatHappened } from '../../src/evidence/what-happened/index.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import { prepareRecord } from '../../src/ledger/record.js';
import type { OperationRequestInput } from '../../src/model/request.js';
import type { CliResult } from '../support/cli.js';
import { runWrit } from '../support/cli.js';
import { freshLedger } from '../support/db.js';
import { asRole, refusal } from '../support/roles.js';
import { withHooks } from '../support/hooked-connector.js';
import type { WritHarness } from '../support/writ.js';
import { startWrit, updateTier, waitForState } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

// ---------------------------------------------------------------------------------------------
// Helpers

interface StoredRecord {
  chain_id: string;
  seq: number;
  recorded_at: Date;
  record: {
    type: string;
    operationId: string | null;
    correlationId: string | null;
    stepIndex: number | null;
    state: string | null;
    actor: { id: string; kind: string; groups: string[] };
    occurredAt: string;
    payload: Record<string, unknown>;
  };
}

/** The projection's columns that an independent fold over the records can predict exactly. */
const PROJECTED = `operation_id, chain_id, correlation_id, actor, intent, mode, policy_id, risk, approvals_required,
  first_seq, last_seq, started_at, last_event_at, closed_at, state, outcome, last_event_type,
  events, approvals_granted, approvals_refused, approvals_rejected, approvals_stale, compensations,
  compensation_failures, manual_events`;

/**
 * What the projection must say about one operation, folded in TypeScript straight from its
 * records: a second implementation of the same definition, so the trigger is checked against
 * the DESIGN's words rather than against itself.
 */
function expectedRow(records: StoredRecord[]) {
  const first = records[0]!;
  const last = records.at(-1)!;
  const ofType = (type: string) => records.filter((r) => r.record.type === type);
  const planned = ofType('operation.planned')[0];
  const decided = ofType('policy.decided').at(-1);
  const closed = ofType('operation.closed')[0];
  const envelope = planned?.record.payload.envelope as { intent: string; mode: string } | undefined;
  const decision = decided?.record.payload.decision as
    { policyId: string; risk: string; approvalsRequired: number } | undefined;
  return {
    operation_id: first.record.operationId,
    chain_id: first.chain_id,
    correlation_id: records.find((r) => r.record.correlationId !== null)?.record.correlationId ?? null,
    actor: planned?.record.actor ?? null,
    intent: envelope?.intent ?? null,
    mode: envelope?.mode ?? null,
    policy_id: decision?.policyId ?? null,
    risk: decision?.risk ?? null,
    approvals_required: decision?.approvalsRequired ?? null,
    first_seq: first.seq,
    last_seq: last.seq,
    started_at: new Date(first.record.occurredAt),
    last_event_at: new Date(Math.max(...records.map((r) => Date.parse(r.record.occurredAt)))),
    closed_at: closed ? new Date(closed.record.occurredAt) : null,
    state: records.reduce<string | null>((state, r) => r.record.state ?? state, null),
    outcome: (closed?.record.payload.outcome as string | undefined) ?? null,
    last_event_type: last.record.type,
    events: records.length,
    approvals_granted: ofType('approval.granted').length,
    approvals_refused: ofType('approval.refused').length,
    approvals_rejected: ofType('approval.rejected').length,
    approvals_stale: ofType('approval.stale').length,
    compensations: ofType('step.compensated').length,
    compensation_failures: ofType('step.compensation_failed').length,
    manual_events: records.filter((r) => r.record.type.startsWith('manual.')).length,
  };
}

async function recordsByOperation(pool: pg.Pool): Promise<Map<string, StoredRecord[]>> {
  const rows = (
    await pool.query<StoredRecord>(
      `SELECT chain_id, seq, recorded_at, record FROM writ.records WHERE operation_id IS NOT NULL ORDER BY operation_id, chain_id, seq`,
    )
  ).rows;
  const grouped = new Map<string, StoredRecord[]>();
  for (const row of rows) grouped.set(row.record.operationId!, [...(grouped.get(row.record.operationId!) ?? []), row]);
  return grouped;
}

/** Every column of every row, for before/after comparisons. */
async function projection(pool: pg.Pool | pg.PoolClient): Promise<Array<Record<string, unknown>>> {
  return (await pool.query('SELECT * FROM writ.operations ORDER BY operation_id')).rows;
}

async function one(pool: pg.Pool, id: string): Promise<OperationSummary> {
  const found = await whatHappened(pool, id);
  assert.ok(found, `what happened to ${id}?`);
  assert.equal(found.matchedBy, 'operation');
  assert.equal(found.operations.length, 1);
  return found.operations[0]!;
}

const INSERT = 'INSERT INTO writ.records (canonical) VALUES ($1) RETURNING seq';

function draft(operationId: string | null, type: string, extra: Partial<RecordDraft> = {}): RecordDraft {
  return { type, operationId, actor: { id: 'alice', kind: 'user', groups: [] }, payload: {}, ...extra };
}

/**
 * A governed operation's records written by hand, with fixed times so that two ledgers given the
 * same stories hold the same projection: two steps, an approval refused then granted, a note on a
 * step, a close. `n` varies the story so the operations differ.
 */
function storyOf(operationId: string, n: number): RecordDraft[] {
  const at = (i: number) => new Date(Date.UTC(2026, 2, 12, 9, n, i)).toISOString();
  const correlationId = randomBytes(16).toString('hex');
  const base = {
    operationId,
    correlationId,
    actor: { id: `requester-${n}`, kind: 'user' as const, groups: ['sales-ops'] },
  };
  const target = (stepIndex: number) => ({
    stepIndex,
    connector: 'postgres',
    action: 'update',
    target: `public.accounts/${stepIndex}`,
    identity: `postgres:public.accounts/${stepIndex}`,
  });
  const events: Array<Omit<RecordDraft, 'actor'>> = [
    {
      type: 'operation.planned',
      state: 'planned',
      payload: { envelope: { intent: `story ${n}`, mode: 'execute', targets: [target(0), target(1)] } },
    },
    { type: 'policy.decided', payload: { decision: { policyId: 'p', risk: 'high', approvalsRequired: 1 } } },
    { type: 'operation.validated', state: 'validated' },
    {
      type: 'approval.requested',
      state: 'awaiting_approval',
      payload: { required: 1, approverGroups: ['managers'], deadline: at(59) },
    },
    {
      type: 'approval.refused',
      payload: {
        kind: 'approve',
        approver: `requester-${n}`,
        refusal: 'the requester cannot approve their own operation',
      },
    },
    { type: 'approval.granted', payload: { kind: 'approve', approver: 'bob', reason: 'fine' } },
    { type: 'operation.approved', state: 'approved', payload: { approvers: ['bob'] } },
    ...[0, 1].flatMap((stepIndex): Array<Omit<RecordDraft, 'actor'>> => [
      { type: 'step.executing', state: 'executing', stepIndex, payload: { target: target(stepIndex) } },
      {
        type: 'step.executed',
        state: 'executed',
        stepIndex,
        payload: { before: { tier: 'silver', n }, after: { tier: 'gold', n } },
      },
      { type: 'manual.note', stepIndex, payload: { message: `checked step ${stepIndex + 1}` } },
      { type: 'step.verifying', state: 'verifying', stepIndex },
      { type: 'step.verified', state: 'verified', stepIndex },
    ]),
    { type: 'operation.closed', state: 'closed', payload: { outcome: 'succeeded' } },
  ];
  return events.slice(0, events.length - n).map((event, i) => ({
    ...base,
    ...event,
    occurredAt: at(i),
    idempotencyKey: `${event.type.startsWith('manual.') ? 'manual/' : ''}${operationId}/${i}`,
  }));
}

/** Runs statements as `role` on one connection (SET ROLE drops superuser rights for it). */
function writWhatHappened(args: string[], databaseUrl: string): Promise<CliResult> {
  return runWrit(['what-happened', ...args], { env: { DATABASE_URL: databaseUrl } });
}

// ---------------------------------------------------------------------------------------------
// Real governed writes through a real worker, shared by the tests that only read them.

const approvers = {
  approvers: [
    { id: 'alice', groups: ['managers'] },
    { id: 'bob', groups: ['managers'] },
    { id: 'carol', groups: ['managers'] },
  ],
};
const policy = {
  id: 'what-happened-policy',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'reviewed-changes-need-a-manager',
      match: {},
      optIn: { labels: { review: 'yes' } },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], windowMs: 60_000 },
    },
  ],
};
const traceId = randomBytes(16).toString('hex');
const sharedTrace = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;

const twoSteps: OperationRequestInput = {
  actor: { id: 'alice', kind: 'user' },
  intent: 'move Acme to gold and Globex to platinum',
  steps: [
    { connector: 'postgres', action: 'update', target: 'public.accounts/42', params: { set: { balance: 250 } } },
    { connector: 'postgres', action: 'update', target: 'public.accounts/43', params: { set: { tier: 'platinum' } } },
  ],
};

describe('the what-happened view of real governed writes', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let harness: WritHarness;
  let pool: pg.Pool;
  const ids = { plain: '', approved: '', rejected: '', rolledBack: '', dryRun: '', sharedA: '', sharedB: '' };

  before(async () => {
    let verifications = 0;
    let sabotageAt = -1;
    harness = await startWrit(
      { after: (fn) => cleanups.push(fn) },
      {
        policy,
        approvers,
        connectors: (l) => [
          withHooks(postgresConnector({ pool: l.pool, allowLedgerDatabase: true }), {
            // Someone else edits Globex between our write and our read-back, once, when armed.
            beforeVerify: async () => {
              if (++verifications === sabotageAt)
                await l.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 43`);
            },
          }),
        ],
      },
    );
    const { writ } = harness;
    pool = harness.ledger.pool;

    ids.plain = (await writ.start(updateTier())).operationId;
    assert.equal((await writ.result(ids.plain)).outcome, 'succeeded');
    await new GroupCommitAppender(pool).append(
      draft(ids.plain, 'manual.note', {
        actor: { id: 'olga', kind: 'user', groups: ['ops'] },
        payload: { message: 'customer confirmed by phone' },
      }),
    );

    ids.approved = (await writ.start(updateTier({ labels: { review: 'yes' } }, 'platinum'))).operationId;
    await waitForState(writ, ids.approved, 'awaiting_approval');
    assert.equal((await writ.approve(ids.approved, { approver: 'alice', reason: 'my own' })).accepted, false);
    assert.equal((await writ.approve(ids.approved, { approver: 'bob', reason: 'renewal confirmed' })).accepted, true);
    assert.equal((await writ.result(ids.approved)).outcome, 'succeeded');

    ids.rejected = (
      await writ.start(updateTier({ labels: { review: 'yes' }, intent: 'downgrade by mistake' }, 'bronze'))
    ).operationId;
    await waitForState(writ, ids.rejected, 'awaiting_approval');
    await writ.reject(ids.rejected, { approver: 'carol', reason: 'not agreed with the customer' });
    assert.equal((await writ.result(ids.rejected)).outcome, 'rejected');

    sabotageAt = verifications + 2;
    ids.rolledBack = (await writ.start(twoSteps)).operationId;
    assert.equal((await writ.result(ids.rolledBack)).outcome, 'rolled_back');

    ids.dryRun = (await writ.start(updateTier({ mode: 'dry-run' }, 'diamond'))).operationId;
    assert.equal((await writ.result(ids.dryRun)).outcome, 'dry_run');

    ids.sharedA = (await writ.start(updateTier({ traceparent: sharedTrace }, 'gold'))).operationId;
    ids.sharedB = (
      await writ.start({
        ...twoSteps,
        steps: [
          { connector: 'postgres', action: 'update', target: 'public.accounts/43', params: { set: { balance: 7 } } },
        ],
        traceparent: sharedTrace,
      })
    ).operationId;
    await Promise.all([writ.result(ids.sharedA), writ.result(ids.sharedB)]);
    // A note under the correlation id that belongs to no operation.
    await new GroupCommitAppender(pool).append(
      draft(null, 'manual.note', { correlationId: traceId, payload: { message: 'batch started by the renewal job' } }),
    );
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test('the projection holds one row per operation, and each row says what its records say', async () => {
    const grouped = await recordsByOperation(pool);
    const rows = (await pool.query(`SELECT ${PROJECTED} FROM writ.operations ORDER BY operation_id`)).rows;
    assert.deepEqual(
      rows.map((row) => row.operation_id),
      [...grouped.keys()].sort(),
    );
    assert.equal(rows.length, Object.keys(ids).length);
    for (const row of rows)
      assert.deepEqual(row, expectedRow(grouped.get(row.operation_id)!), `operation ${row.operation_id}`);

    // Worded from the records when read: the recent events are the last ten records, with the same
    // one-line summaries as the timeline, and each step's last event is its last step.* record.
    const full = await pool.query<{
      operation_id: string;
      recent: unknown[];
      approval_trail: Array<{ seq: number; type: string }>;
      steps: Record<string, { last?: string }>;
    }>(
      `SELECT o.operation_id, s.recent, s.approval_trail, s.steps
         FROM writ.operations o CROSS JOIN LATERAL writ.operation_story(o.operation_id, o.chain_id) AS s`,
    );
    for (const row of full.rows) {
      const events = await timeline(pool, row.operation_id);
      assert.equal(
        (await one(pool, row.operation_id)).stepCount,
        new Set(events.filter((e) => e.stepIndex !== null).map((e) => e.stepIndex)).size,
      );
      assert.deepEqual(
        row.recent,
        events.slice(-10).map((e) => ({
          seq: e.seq,
          type: e.type,
          state: e.state,
          stepIndex: e.stepIndex,
          at: e.occurredAt,
          actor: e.actor.id,
          summary: e.summary,
        })),
      );
      const approvalEvents = events.filter(
        (e) =>
          e.type.startsWith('approval.') ||
          ['operation.approved', 'operation.rejected', 'operation.expired'].includes(e.type),
      );
      assert.deepEqual(
        row.approval_trail.map((e) => [e.seq, e.type]),
        approvalEvents.slice(-20).map((e) => [e.seq, e.type]),
      );
      const lastStepEvent = new Map<string, string>();
      for (const e of events)
        if (e.stepIndex !== null && e.type.startsWith('step.')) lastStepEvent.set(String(e.stepIndex), e.type);
      assert.deepEqual(
        Object.fromEntries(Object.entries(row.steps).map(([index, step]) => [index, step.last])),
        Object.fromEntries(lastStepEvent),
      );
    }
  });

  test('a write that needed no approval reads as succeeded, with what it changed and the note added by hand', async () => {
    const op = await one(pool, ids.plain);
    assert.equal(op.state, 'closed');
    assert.equal(op.outcome, 'succeeded');
    assert.equal(op.open, false);
    assert.equal(op.actor?.id, 'alice');
    assert.equal(op.intent, 'raise tier after renewal');
    assert.equal(op.stepCount, 1);
    assert.equal(op.events, 9, '8 workflow events and 1 note');
    assert.equal(op.manualEvents, 1);
    assert.equal(op.lastEventType, 'manual.note');
    assert.equal(op.steps[0]!.last, 'step.verified');
    assert.equal(op.steps[0]!.change, 'tier: "silver" -> "gold"');
    assert.deepEqual(op.approvals, { granted: 0, refused: 0, rejected: 0, stale: 0, trail: [] });
    assert.equal(op.compensations, 0);
    assert.equal(op.policy.approvalsRequired, 0);
    assert.ok(op.closedAt && op.durationMs === Date.parse(op.closedAt) - Date.parse(op.startedAt));
    assert.deepEqual(
      op.recent.map((e) => e.type),
      [
        'operation.planned',
        'policy.decided',
        'operation.validated',
        'step.executing',
        'step.executed',
        'step.verifying',
        'step.verified',
        'operation.closed',
        'manual.note',
      ],
    );
    assert.equal(op.recent.at(-1)!.summary, 'note by olga (recorded by hand): customer confirmed by phone');
    assert.equal(op.recent.at(-2)!.summary, 'closed: succeeded');
  });

  test('an approval flow counts the refused and the granted approvals and names who decided', async () => {
    const op = await one(pool, ids.approved);
    assert.equal(op.outcome, 'succeeded');
    assert.deepEqual(
      { id: op.policy.id, risk: op.policy.risk, required: op.policy.approvalsRequired },
      { id: 'what-happened-policy', risk: 'high', required: 1 },
    );
    assert.equal(op.approvals.granted, 1);
    assert.equal(op.approvals.refused, 1);
    assert.deepEqual(
      op.approvals.trail.map((e) => e.type),
      ['approval.requested', 'approval.refused', 'approval.granted', 'operation.approved'],
    );
    assert.deepEqual(
      op.approvals.trail.map((e) => e.by),
      [null, 'alice', 'bob', null],
    );
    assert.equal(op.approvals.trail[2]!.summary, 'approved by bob (identity not verified): renewal confirmed');
    assert.match(
      op.approvals.trail[1]!.summary!,
      /^approval by alice \(identity not verified\) refused: the requester cannot approve their own operation/,
    );
    assert.equal(op.steps[0]!.change, 'tier: "gold" -> "platinum"');
  });

  test('a rejected operation reads as rejected by its approver, with no step run', async () => {
    const op = await one(pool, ids.rejected);
    assert.equal(op.state, 'closed');
    assert.equal(op.outcome, 'rejected');
    assert.equal(op.approvals.rejected, 1);
    assert.equal(op.approvals.granted, 0);
    assert.equal(op.stepCount, 0);
    assert.deepEqual(op.steps, []);
    assert.equal(op.targets.length, 1, 'what it would have changed is still known from the plan');
    assert.ok(
      op.approvals.trail.some(
        (e) => e.summary === 'rejected by carol: not agreed with the customer; nothing was changed',
      ),
    );
  });

  test('a rolled-back operation counts its compensations and says how far each step got', async () => {
    const op = await one(pool, ids.rolledBack);
    assert.equal(op.outcome, 'rolled_back');
    assert.equal(op.stepCount, 2);
    assert.equal(op.compensations, 2);
    assert.equal(op.compensationFailures, 0);
    assert.deepEqual(
      op.steps.map((s) => s.last),
      ['step.compensated', 'step.compensated'],
    );
    assert.match(op.steps[1]!.problem!, /^step 2 failed verification/);
    assert.equal(op.steps[0]!.change, 'balance: 100.5 -> 250');
  });

  test('a dry run records what it would change and changes nothing', async () => {
    const op = await one(pool, ids.dryRun);
    assert.equal(op.outcome, 'dry_run');
    assert.equal(op.mode, 'dry-run');
    assert.match(op.steps[0]!.change!, /^would change .*tier: "[a-z]+" -> "diamond"/);
  });

  test('a correlation id finds every operation that shares it, and its timeline holds all their events in order', async () => {
    const found = (await whatHappened(pool, traceId))!;
    assert.equal(found.matchedBy, 'correlation');
    assert.deepEqual(found.operations.map((op) => op.operationId).sort(), [ids.sharedA, ids.sharedB].sort());
    for (const op of found.operations) assert.equal(op.correlationId, traceId);

    const events = await timeline(pool, traceId);
    const seqs = events.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    assert.equal(
      events.filter((e) => e.operationId !== null).length,
      found.operations.reduce((n, op) => n + op.events, 0),
    );
    assert.equal(events.at(-1)!.operationId, null, 'the note without an operation is part of the correlation');
    assert.equal(events.at(-1)!.summary, 'note by alice (recorded by hand): batch started by the renewal job');

    // By operation id, the timeline is exactly that operation's records.
    const own = await timeline(pool, ids.plain);
    const stored = (
      await pool.query<{ seq: number; event_type: string }>(
        'SELECT seq, event_type FROM writ.records WHERE operation_id = $1 ORDER BY seq',
        [ids.plain],
      )
    ).rows;
    assert.deepEqual(
      own.map((e) => [e.seq, e.type]),
      stored.map((r) => [r.seq, r.event_type]),
    );
  });

  test('the stories of many operations worded in one call are each what it is worded alone', async () => {
    // One call for every operation of the ledger: approvals, a refusal, a rejection, a rollback, a
    // dry run and a note by hand, so any story that leaked into another's would show.
    const { rows: together } = await pool.query<{ operation_id: string; story: unknown }>(
      `SELECT s.operation_id, jsonb_build_array(s.steps, s.recent, s.approval_trail) AS story
         FROM writ.operation_stories((SELECT array_agg(operation_id) FROM writ.operations),
                                     (SELECT array_agg(chain_id) FROM writ.operations)) AS s`,
    );
    const { rows: alone } = await pool.query<{ operation_id: string; story: unknown }>(
      `SELECT o.operation_id, jsonb_build_array(s.steps, s.recent, s.approval_trail) AS story
         FROM writ.operations o CROSS JOIN LATERAL writ.operation_story(o.operation_id, o.chain_id) AS s`,
    );
    assert.ok(alone.length >= 7, `only ${alone.length} operations`);
    const byId = (rows: typeof alone) => new Map(rows.map((r) => [r.operation_id, r.story]));
    assert.deepEqual(byId(together), byId(alone));
    // And a correlation id's lookup gives each of its operations the story its own id gives.
    const shared = (await whatHappened(pool, traceId))!;
    for (const op of shared.operations) assert.deepEqual(op, (await whatHappened(pool, op.operationId))!.operations[0]);
  });

  test('both lookups are served by indexes, never by reading the whole table', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // The test tables are tiny, where a sequential scan is cheapest; forbid it to see that an index path exists.
      await client.query('SET LOCAL enable_seqscan = off');
      for (const sql of [
        `EXPLAIN SELECT * FROM writ.operations o WHERE o.operation_id = $1 OR o.correlation_id = $1`,
        `EXPLAIN SELECT * FROM writ.records WHERE operation_id = $1 ORDER BY chain_id, seq`,
        `EXPLAIN SELECT * FROM writ.records WHERE correlation_id = $1 ORDER BY chain_id, seq`,
      ]) {
        const plan = (await client.query<{ 'QUERY PLAN': string }>(sql, [traceId])).rows
          .map((row) => row['QUERY PLAN'])
          .join('\n');
        assert.doesNotMatch(plan, /Seq Scan/, plan);
        assert.match(plan, /Index/, plan);
      }
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  test('writ.rebuild_operations() recomputes exactly the rows the trigger maintained, and leaves the records alone', async () => {
    const before = await projection(pool);
    const records = async () =>
      (
        await pool.query(
          "SELECT chain_id, seq, encode(hash, 'hex') AS hash, record FROM writ.records ORDER BY chain_id, seq",
        )
      ).rows;
    const recordsBefore = await records();
    await pool.query('TRUNCATE writ.operations');
    assert.deepEqual(await projection(pool), []);
    const folded = await pool.query<{ n: number }>('SELECT writ.rebuild_operations()::int AS n');
    assert.equal(folded.rows[0]!.n, recordsBefore.filter((r) => r.record.operationId !== null).length);
    assert.deepEqual(await projection(pool), before);
    assert.deepEqual(await records(), recordsBefore);
    assert.ok((await verifyStoredLedger(pool)).every((verdict) => verdict.ok));
  });

  test('writ what-happened prints who asked, why, what changed, approvals, compensations and the verdict', async () => {
    const approved = await writWhatHappened([ids.approved], harness.ledger.url);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, new RegExp(`^operation ${ids.approved}: closed, succeeded$`, 'm'));
    // The requester's groups are the directory's (alice is a manager there), not the ones the request
    // claimed (sales-ops).
    assert.match(approved.stdout, /who asked: +alice \(user; groups managers; identity not verified\)/);
    assert.match(approved.stdout, /why: +raise tier after renewal/);
    assert.match(
      approved.stdout,
      /step 1 +update postgres:public\.accounts\/42 +made and verified: tier: "gold" -> "platinum"/,
    );
    assert.match(approved.stdout, /approvals: +1 granted, 1 refused/);
    assert.match(approved.stdout, /approved by bob \(identity not verified\): renewal confirmed/);
    assert.match(approved.stdout, /compensations: none/);
    assert.match(approved.stdout, /verdict: +succeeded: every step was made and read back as written/);
    assert.match(approved.stdout, /latest events \(the last 10 of 12; --timeline shows all\):/);

    const rolledBack = await writWhatHappened([ids.rolledBack], harness.ledger.url);
    assert.equal(rolledBack.code, 0, rolledBack.stderr);
    assert.match(rolledBack.stdout, /compensations: 2 step\(s\) rolled back/);
    assert.match(
      rolledBack.stdout,
      /step 1 +update postgres:public\.accounts\/42 +rolled back: had changed balance: 100\.5 -> 250/,
    );
    assert.match(rolledBack.stdout, /verdict: +rolled back: a step failed, and every step made before it was undone/);

    const rejected = await writWhatHappened([ids.rejected], harness.ledger.url);
    assert.match(rejected.stdout, /step 1 +update postgres:public\.accounts\/42 +not run/);
    assert.match(rejected.stdout, /verdict: +rejected by an approver: nothing was changed/);
  });

  test('writ what-happened --timeline lists every event of the operation in ledger order', async () => {
    const result = await writWhatHappened([ids.plain, '--timeline'], harness.ledger.url);
    assert.equal(result.code, 0, result.stderr);
    const stored = (
      await pool.query<{ seq: number; event_type: string }>(
        'SELECT seq, event_type FROM writ.records WHERE operation_id = $1 ORDER BY seq',
        [ids.plain],
      )
    ).rows;
    assert.match(result.stdout, new RegExp(`timeline: ${stored.length} event\\(s\\) on chain main`));
    const lines = result.stdout.split('\n');
    const positions = stored.map((r) =>
      lines.findIndex((line) => new RegExp(`^\\s+${r.seq}\\s.*\\s${r.event_type.replace('.', '\\.')}\\s`).test(line)),
    );
    assert.ok(
      positions.every((p) => p >= 0),
      `every record has its line:\n${result.stdout}`,
    );
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
    );
    assert.match(result.stdout, /olga .*manual\.note .*customer confirmed by phone/);

    const shared = await writWhatHappened([traceId, '--timeline'], harness.ledger.url);
    assert.equal(shared.code, 0, shared.stderr);
    assert.match(shared.stdout, new RegExp(`^correlation ${traceId} covers 2 operation\\(s\\)$`, 'm'));
    assert.match(shared.stdout, new RegExp(`${ids.sharedA}`));
    assert.match(shared.stdout, new RegExp(`${ids.sharedB}`));
  });

  test('writ what-happened --json prints the summary, and with --timeline the full records', async () => {
    const result = await writWhatHappened([ids.rolledBack, '--json'], harness.ledger.url);
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as WhatHappened & { timeline?: unknown };
    assert.equal(parsed.matchedBy, 'operation');
    assert.equal(parsed.operations[0]!.operationId, ids.rolledBack);
    assert.equal(parsed.operations[0]!.outcome, 'rolled_back');
    assert.deepEqual(parsed.operations[0], await one(pool, ids.rolledBack));
    assert.equal(parsed.timeline, undefined);

    const full = await writWhatHappened([ids.rolledBack, '--json', '--timeline'], harness.ledger.url);
    assert.equal(full.code, 0, full.stderr);
    const withTimeline = JSON.parse(full.stdout) as {
      timeline: Array<{ seq: number; payload: Record<string, unknown> }>;
    };
    assert.equal(withTimeline.timeline.length, parsed.operations[0]!.events);
    assert.deepEqual(withTimeline.timeline, JSON.parse(JSON.stringify(await timeline(pool, ids.rolledBack))));
  });

  test('an unknown id exits 2 and says which ledger was searched', async () => {
    const result = await writWhatHappened(['no-such-operation'], harness.ledger.url);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      new RegExp(
        `no operation or correlation id no-such-operation in the ledger at postgres://[^ ]*/${harness.ledger.name}`,
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The trigger itself, on a ledger of hand-made records.

describe('the projection trigger on the append path', () => {
  test('the writer role can still append, and its appends maintain a projection it can read but not write', async (t) => {
    const { pool } = await freshLedger(t);
    const operationId = `op-${randomUUID()}`;
    const seqs = await asRole(pool, 'writ_writer', async (client) => {
      const planned = await client.query(INSERT, [
        prepareRecord(
          draft(operationId, 'operation.planned', {
            state: 'planned',
            payload: { envelope: { intent: 'by the writer', mode: 'execute', targets: [] } },
          }),
        ).canonical,
      ]);
      const note = await client.query(INSERT, [
        prepareRecord(draft(operationId, 'manual.note', { payload: { message: 'hello' } })).canonical,
      ]);
      return [planned.rows[0].seq, note.rows[0].seq];
    });
    assert.deepEqual(seqs, [1, 2]);
    const op = await one(pool, operationId);
    assert.deepEqual(
      [op.firstSeq, op.lastSeq, op.events, op.state, op.intent, op.manualEvents],
      [1, 2, 2, 'planned', 'by the writer', 1],
    );

    for (const role of ['writ_writer', 'writ_reader']) {
      const seen = await asRole(pool, role, (client) => client.query('SELECT operation_id FROM writ.operations'));
      assert.deepEqual(seen.rows, [{ operation_id: operationId }], `${role} reads the projection`);
      for (const sql of [
        `UPDATE writ.operations SET events = 0`,
        `DELETE FROM writ.operations`,
        `INSERT INTO writ.operations SELECT * FROM writ.operations`,
        'TRUNCATE writ.operations',
        'SELECT writ.rebuild_operations()',
      ]) {
        const error = await refusal(asRole(pool, role, (client) => client.query(sql)));
        assert.equal(error.code, '42501', `${role}: ${sql}: ${error.message}`);
      }
    }
    const timelineAsReader = await asRole(pool, 'writ_reader', (client) =>
      client.query('SELECT writ.event_summary(record) AS s FROM writ.records ORDER BY seq'),
    );
    assert.deepEqual(
      timelineAsReader.rows.map((row) => row.s),
      ['alice (identity not verified) asked for 0 step(s): by the writer', 'note by alice (recorded by hand): hello'],
    );
  });

  test('an append that rolls back leaves the projection exactly as it was', async (t) => {
    const { pool } = await freshLedger(t);
    const existing = `op-${randomUUID()}`;
    const fresh = `op-${randomUUID()}`;
    await new GroupCommitAppender(pool).appendAll([
      draft(existing, 'operation.planned', { state: 'planned' }),
      draft(existing, 'operation.validated', { state: 'validated' }),
    ]);
    const before = await projection(pool);

    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(INSERT, [
        prepareRecord(draft(existing, 'step.executing', { state: 'executing', stepIndex: 0 })).canonical,
      ]);
      await client.query(INSERT, [prepareRecord(draft(fresh, 'operation.planned', { state: 'planned' })).canonical]);
      // Inside the transaction the projection already moved with the records.
      const inside = await projection(client);
      assert.deepEqual(
        inside.map((row) => [row.operation_id, row.events, row.state]).sort(),
        [
          [existing, 3, 'executing'],
          [fresh, 1, 'planned'],
        ].sort(),
      );
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    assert.deepEqual(await projection(pool), before);

    // One statement whose second row is refused by the link trigger: the first row's fold goes too.
    const bad = Buffer.from(JSON.stringify({ ...prepareRecord(draft(existing, 'manual.note')).record, v: 2 }));
    const error = await refusal(
      pool.query('INSERT INTO writ.records (canonical) SELECT unnest($1::bytea[])', [
        [prepareRecord(draft(existing, 'manual.note')).canonical, bad],
      ]),
    );
    assert.equal(error.code, 'WRT03');
    assert.deepEqual(await projection(pool), before);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM writ.records')).rows[0].n, 2);
  });

  test('a record whose fields the projection cannot read is still appended, and still counted', async (t) => {
    const { pool } = await freshLedger(t);
    const operationId = `op-${randomUUID()}`;
    // Written past Writ's own validation, as any holder of writ_writer could.
    const odd = {
      v: 1,
      chain: 'main',
      eventId: randomUUID(),
      idempotencyKey: randomUUID(),
      type: 'step.executed',
      operationId,
      correlationId: null,
      traceparent: null,
      stepIndex: 1.5,
      state: null,
      actor: 'not an object',
      occurredAt: '2026-02-31T25:00:00Z',
      workflow: null,
      payload: { before: [1], after: 'x', approvalsRequired: 'many' },
    };
    const inserted = await asRole(pool, 'writ_writer', (client) =>
      client.query(`${INSERT.replace('RETURNING seq', 'RETURNING seq, recorded_at')}`, [
        Buffer.from(JSON.stringify(odd)),
      ]),
    );
    assert.equal(inserted.rows[0].seq, 1);
    const row = (await pool.query('SELECT * FROM writ.operations WHERE operation_id = $1', [operationId])).rows[0];
    assert.equal(row.events, 1);
    assert.deepEqual(
      row.started_at,
      inserted.rows[0].recorded_at,
      'an unreadable occurredAt falls back to the database clock',
    );
    // what-happened words such a record too, from the record itself.
    const summary = await one(pool, operationId);
    assert.equal(summary.stepCount, 1);
    assert.equal(summary.recent[0]!.summary, 'step ? changed [1] -> "x"');
    await pool.query('SELECT writ.rebuild_operations()');
    assert.deepEqual(
      (await pool.query('SELECT * FROM writ.operations WHERE operation_id = $1', [operationId])).rows[0],
      row,
    );
  });

  test('records folded together in one statement, one by one, or in rebuild chunks of any size give the same rows', async (t) => {
    const stories = [`op-${randomUUID()}`, `op-${randomUUID()}`, `op-${randomUUID()}`].map((operationId, n) =>
      storyOf(operationId, n),
    );
    // Interleaved as concurrent operations would be, so each statement below mixes operations.
    const drafts = stories[0]!.flatMap((_, i) =>
      stories.map((story) => story[i]).filter((d): d is RecordDraft => d !== undefined),
    );
    const oneByOne = await freshLedger(t);
    for (const d of drafts) await new GroupCommitAppender(oneByOne.pool).append(d);
    const together = await freshLedger(t);
    await new GroupCommitAppender(together.pool).appendAll(drafts);

    const expected = await projection(oneByOne.pool);
    assert.equal(expected.length, 3);
    assert.deepEqual(
      await projection(together.pool),
      expected,
      'one INSERT of every record folds like one INSERT per record',
    );
    const grouped = await recordsByOperation(oneByOne.pool);
    const scalars = (await oneByOne.pool.query(`SELECT ${PROJECTED} FROM writ.operations ORDER BY operation_id`)).rows;
    for (const row of scalars) assert.deepEqual(row, expectedRow(grouped.get(row.operation_id)!));
    for (const size of [1, 2, 7, 5000]) {
      await oneByOne.pool.query('SELECT writ.rebuild_operations($1)', [size]);
      assert.deepEqual(await projection(oneByOne.pool), expected, `rebuilt in chunks of ${size}`);
    }
    assert.equal((await refusal(oneByOne.pool.query('SELECT writ.rebuild_operations(0)'))).code, '22023');
  });

  test('a rebuild refuses to run under a snapshot that could lose concurrent appends', async (t) => {
    const { pool } = await freshLedger(t);
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      const error = await refusal(client.query('SELECT writ.rebuild_operations()'));
      assert.equal(error.code, 'WRT01');
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });
});
