import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPool } from '../../src/db/pool.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import { checkProjection } from '../../src/ledger/projection-check.js';
import { runWrit } from '../support/cli.js';
import { freshLedger } from '../support/db.js';

const writ = { id: 'writ', kind: 'service' } as const;

/** An operation's records as the workflow writes them, ending in `outcome` (succeeded, or failed at verification). */
function operation(id: string, outcome: 'succeeded' | 'failed'): RecordDraft[] {
  const path = [
    'planned',
    'validated',
    'executing',
    'executed',
    'verifying',
    outcome === 'succeeded' ? 'verified' : 'verification_failed',
    'closed',
  ];
  return [
    {
      type: 'operation.planned',
      operationId: id,
      state: 'planned',
      actor: { id: 'alice', kind: 'user' },
      payload: { envelope: { intent: `change ${id}`, mode: 'live', targets: [] } },
    },
    {
      type: 'step.executed',
      operationId: id,
      stepIndex: 0,
      state: 'executed',
      actor: writ,
      payload: { before: { tier: 'silver' }, after: { tier: 'gold' } },
    },
    { type: 'operation.closed', operationId: id, state: 'closed', actor: writ, payload: { outcome, path } },
  ];
}

async function ledgerWithOperations(t: Parameters<typeof freshLedger>[0], count: number) {
  const ledger = await freshLedger(t);
  const appender = new GroupCommitAppender(ledger.pool);
  for (let i = 0; i < count; i++)
    await appender.appendAll(operation(`op-${String(i).padStart(3, '0')}`, i % 2 ? 'succeeded' : 'failed'));
  return ledger;
}

describe("when the what-happened projection is edited behind the records' back", () => {
  test('an outcome turned from failed to succeeded makes writ verify exit 1 naming the operation and the field', async (t) => {
    const { pool, url } = await ledgerWithOperations(t, 3);
    const intact = await runWrit(['verify', '--json'], { env: { DATABASE_URL: url } });
    assert.equal(intact.code, 0, intact.stdout + intact.stderr);
    const intactReport = JSON.parse(intact.stdout) as {
      findings: unknown[];
      projection: { ok: boolean; operations: number };
    };
    assert.deepEqual(
      [intactReport.projection.ok, intactReport.projection.operations, intactReport.findings],
      [true, 3, []],
    );

    // The database owner (or any role that can write the projection) rewrites what people read.
    await pool.query(
      "UPDATE writ.operations SET outcome = 'succeeded', state = 'succeeded' WHERE operation_id = 'op-002'",
    );
    const result = await runWrit(['verify', '--json'], { env: { DATABASE_URL: url } });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const report = JSON.parse(result.stdout) as {
      findings: Array<{ code: string; operationId?: string; field?: string }>;
      projection: {
        disagreements: Array<{ operationId: string; field: string; stored: unknown; recomputed: unknown }>;
      };
    };
    assert.deepEqual(report.findings.map((f) => [f.code, f.operationId, f.field]).sort(), [
      ['PROJECTION_DISAGREES', 'op-002', 'outcome'],
      ['PROJECTION_DISAGREES', 'op-002', 'state'],
    ]);
    assert.deepEqual(report.projection.disagreements.map((d) => [d.field, d.stored, d.recomputed]).sort(), [
      ['outcome', 'succeeded', 'failed'],
      ['state', 'succeeded', 'closed'],
    ]);
    // Checking changed nothing: the edited row is still there for an investigator to see.
    assert.equal(
      (await pool.query("SELECT outcome FROM writ.operations WHERE operation_id = 'op-002'")).rows[0].outcome,
      'succeeded',
    );
  });

  test('the reader role can run the check, across batches, and a missing or invented row is named', async (t) => {
    const { pool, url } = await ledgerWithOperations(t, 7);
    await pool.query("DELETE FROM writ.operations WHERE operation_id = 'op-004'");
    await pool.query(
      "INSERT INTO writ.operations SELECT 'op-999', chain_id, correlation_id, actor, intent, mode, targets, policy_id, risk, approvals_required, first_seq, last_seq, started_at, last_event_at, closed_at, state, outcome, last_event_type, events, approvals_granted, approvals_refused, approvals_rejected, approvals_stale, compensations, compensation_failures, manual_events FROM writ.operations WHERE operation_id = 'op-001'",
    );
    await pool.query("UPDATE writ.operations SET events = 2 WHERE operation_id = 'op-006'");

    const reader = createPool(url, { max: 1, applicationName: 'writ-test-reader' });
    t.after(() => reader.end());
    reader.on('connect', (client) => void client.query('SET ROLE writ_reader'));
    assert.equal((await reader.query('SELECT current_user AS u')).rows[0].u, 'writ_reader');
    const before = (await pool.query('SELECT * FROM writ.operations ORDER BY operation_id')).rows;
    const verdict = await checkProjection(reader, { batch: 2 });
    assert.equal(verdict.ok, false);
    assert.equal(verdict.operations, 7);
    assert.deepEqual(
      verdict.disagreements.map((d) => `${d.operationId} ${d.field}`),
      ['op-004 *', 'op-006 events', 'op-999 *'],
    );
    assert.equal(verdict.disagreements[0]!.stored, null);
    assert.equal(verdict.disagreements[2]!.recomputed, null);
    assert.deepEqual(
      (await pool.query('SELECT * FROM writ.operations ORDER BY operation_id')).rows,
      before,
      'the projection is left as it was',
    );

    const writer = await checkProjection(pool, { batch: 100 });
    assert.deepEqual(writer.disagreements, verdict.disagreements, 'the batch size does not change the answer');
  });
});
