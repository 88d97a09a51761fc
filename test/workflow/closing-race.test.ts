/**
 * A resolution closes its operation in the same workflow task that takes it. When any event reaches
 * the workflow while that task runs (a signal, an alert's activity finishing), Temporal refuses the
 * task's completion (UNHANDLED_COMMAND) and aborts the update that rode on it with WorkflowNotReady.
 * The resolver must not be told "failed" for a resolution that is then taken, or taken twice: the
 * client offers it again, the workflow's appends meet their own records, and it closes once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import { ledgerEvents, startWrit, updateTier, waitFor, waitForRecord, waitForState } from '../support/writ.js';
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

test('a resolution whose closing task meets a new event is taken once, and its caller is told so', async (t) => {
  const harness = await startWrit(t, { approvers, connectors: stuckConnectors });
  const { writ, ledger } = harness;
  const { operationId } = await writ.start(updateTier());
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

  const answer = await resolving;
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
