/**
 * A resolution closes its operation in the same workflow task that takes it. When any event reaches
 * the workflow while that task runs (a signal, an alert's activity finishing), Temporal refuses the
 * task's completion (UNHANDLED_COMMAND) and aborts the update that rode on it with WorkflowNotReady.
 * The resolver must not be told "failed" for a resolution that is then taken, or taken twice: the
 * client offers it again, the workflow's appends meet their own records, and it closes once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import type pg from 'pg';
import type { WritHarness } from '../support/writ.js';
import { ledgerEvents, startWrit, updateTier, waitFor, waitForRecord, waitForState } from '../support/writ.js';
import { plantAsWriter } from '../support/planted.js';
import { stuckConnectors } from '../support/stuck-connector.js';

const approvers = { approvers: [{ id: 'dana', groups: ['oncall'] }] };

/** Holds every append until released, so the closing task is known to be running when the event comes. */
async function holdAppends(pool: pg.Pool): Promise<{ release: () => Promise<void> }> {
  const client = await pool.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE writ.records IN SHARE ROW EXCLUSIVE MODE');
  return {
    release: async () => {
      await client.query('COMMIT');
      client.release();
    },
  };
}

const appendWaiting = async (pool: pg.Pool) =>
  (
    await pool.query(
      `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'writ.records'::regclass`,
    )
  ).rows[0].n > 0;

/** Resolves the operation while a signal reaches the workflow during the closing task, so that task runs twice. */
async function resolveAcrossARerunClosingTask(
  t: TestContext,
  harness: WritHarness,
  operationId: string,
): Promise<{ accepted: boolean }> {
  const { writ, ledger } = harness;
  await waitForState(writ, operationId, 'needs_intervention', 60_000);
  await waitForRecord(ledger, operationId, 'operation.needs_intervention', 30_000);

  const held = await holdAppends(ledger.pool);
  let released = false;
  t.after(async () => {
    if (!released) await held.release();
  });
  const resolving = writ.resolve(operationId, { by: 'dana', action: 'restored by hand', reason: 'maintenance' });
  // The resolution is judged and taken; the closing task now waits on the operation.resolved append.
  await waitFor('the closing task to wait on its append', () => appendWaiting(ledger.pool), 30_000);
  await harness.client.workflow.getHandle(operationId).signal('writ-test-nudge');
  released = true;
  await held.release();
  return resolving;
}

test('a resolution whose closing task meets a new event is taken once, and its caller is told so', async (t) => {
  const harness = await startWrit(t, { approvers, connectors: stuckConnectors });
  const { writ, ledger } = harness;
  const { operationId } = await writ.start(updateTier());
  const answer = await resolveAcrossARerunClosingTask(t, harness, operationId);
  assert.equal(answer.accepted, true);
  const result = await writ.result(operationId);
  assert.equal(result.outcome, 'resolved_manually');
  const types = (await ledgerEvents(ledger, operationId)).map((e) => e.type);
  assert.equal(types.filter((type) => type === 'operation.resolved').length, 1, types.join(', '));
  assert.equal(types.filter((type) => type === 'operation.closed').length, 1, types.join(', '));
  assert.equal(types.filter((type) => type === 'operation.resolve_refused').length, 0, types.join(', '));
  const conflicts = await ledger.pool.query(`SELECT count(*)::int AS n FROM writ.records WHERE event_type = $1`, [
    'ledger.key_conflict',
  ]);
  assert.equal(conflicts.rows[0].n, 0, 'the retried task appended the same records, not different ones');
});

test("when writ_writer planted records under the resolution's keys, a closing task run again records each refusal once", async (t) => {
  const harness = await startWrit(t, { approvers, connectors: stuckConnectors, forgesRecords: true });
  const { writ, ledger } = harness;
  const operationId = `op-${randomUUID()}`;
  for (const key of ['operation.resolved/-/0', 'operation.closed/-/0'])
    await plantAsWriter(ledger.pool, {
      idempotencyKey: `wf/${operationId}/${key}`,
      type: 'manual.note',
      operationId,
      actor: { id: 'mallory', kind: 'user', groups: [] },
      payload: { message: 'mine now' },
    });
  await writ.start(updateTier({ operationId }));
  const answer = await resolveAcrossARerunClosingTask(t, harness, operationId);
  assert.equal(answer.accepted, true);
  assert.equal((await writ.result(operationId)).outcome, 'resolved_manually');
  const refused = await ledger.pool.query(
    `SELECT record -> 'payload' -> 'rejected' -> 'record' ->> 'type' AS type FROM writ.records
      WHERE event_type = 'ledger.key_conflict' AND operation_id = $1 ORDER BY seq`,
    [operationId],
  );
  assert.deepEqual(
    refused.rows.map((row) => row.type),
    ['operation.resolved', 'operation.closed'],
    'the task run again offered the same records and found their refusals',
  );
});
