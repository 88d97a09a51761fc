/**
 * A worker evicts a cached operation when a new one needs its place. An operation evicted while its
 * ledger append waits out a retry backoff (the database refusing writes for a while) must carry on
 * once the database is back, not fail on a cancellation that nobody asked for.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type pg from 'pg';
import proto from '@temporalio/proto';
import { ASSERTED_IDENTITIES } from '../support/identities.js';
import { ledgerEvents, startWrit, updateTier, waitFor, waitForState } from '../support/writ.js';

const { temporal } = proto;

/** The database refuses every record of the operations listed in `refusing`, and counts refusals. */
async function refusableAppends(pool: pg.Pool) {
  // The trigger reads the record's operationId: a BEFORE trigger sees generated columns unset.
  await pool.query(`
    CREATE TABLE public.refusing (operation_id text PRIMARY KEY);
    CREATE SEQUENCE public.refusals;
    CREATE FUNCTION public.refuse_listed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM public.refusing WHERE operation_id = NEW.record ->> 'operationId') THEN
        PERFORM nextval('public.refusals');
        RAISE EXCEPTION 'the ledger database refuses writes (test outage)' USING ERRCODE = '57P03';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse_listed BEFORE INSERT ON writ.records FOR EACH ROW EXECUTE FUNCTION public.refuse_listed();`);
  return {
    refuse: (operationId: string) => pool.query('INSERT INTO public.refusing VALUES ($1)', [operationId]),
    accept: () => pool.query('DELETE FROM public.refusing'),
    // nextval survives the refused insert's rollback.
    count: async () =>
      Number(
        (await pool.query(`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM public.refusals`)).rows[0].n,
      ),
  };
}

const onAccount = (id: number, tier: string, operationId?: string) =>
  updateTier({
    ...(operationId ? { operationId } : {}),
    steps: [{ connector: 'postgres', action: 'update', target: `public.accounts/${id}`, params: { set: { tier } } }],
  });

/** Workflows the worker keeps cached. */
const CACHED = 10;

const policy = {
  id: 'idle-ones-wait',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'accounts-5x-need-a-manager',
      match: { connector: 'postgres', action: 'update', target: 'public.accounts/5*' },
      risk: 'high',
      approvals: { fromGroups: ['managers'], required: 1 },
    },
  ],
};
const approvers = {
  approvers: [
    { id: 'alice', groups: ['sales-ops'] },
    { id: 'bob', groups: ['managers'] },
  ],
};

test('an operation evicted from the worker while its append backs off carries on when the database is back', async (t) => {
  const { writ, ledger, client } = await startWrit(t, {
    policy,
    approvers,
    // Two pollers: SDK 1.24 balances its pollers against 40 task slots, not the cache's 10 permits,
    // so its default ten could hold every permit and starve the newcomer of a poll for a minute.
    worker: { maxCachedWorkflows: CACHED, maxConcurrentWorkflowTaskPolls: 2 },
  });
  for (let id = 50; id < 50 + CACHED - 1; id++)
    await ledger.pool.query(`INSERT INTO accounts VALUES ($1, $2, 'silver', 7)`, [id, `Company ${id}`]);
  const outage = await refusableAppends(ledger.pool);

  // All but one of the cache's places go to operations waiting for approval.
  const idle = [];
  for (let id = 50; id < 50 + CACHED - 1; id++) idle.push(await writ.start(onAccount(id, 'gold')));
  for (const { operationId } of idle) await waitForState(writ, operationId, 'awaiting_approval');

  const backingOffId = `backing-off-${randomUUID()}`;
  await outage.refuse(backingOffId);
  let newcomer: Awaited<ReturnType<typeof writ.start>>;
  try {
    await writ.start(onAccount(42, 'gold', backingOffId));
    // Its plan's append is refused again and again, the retry backoff doubling from 200 ms: after five
    // refusals the next attempt is seconds away, time enough for the eviction to land inside it.
    await waitFor('five refused appends', async () => (await outage.count()) >= 5, 30_000);
    // A query touches each waiting operation in the cache, leaving the one backing off as the least
    // recently used: the one the worker evicts to make room for the newcomer.
    for (const { operationId } of idle) await writ.state(operationId);
    newcomer = await writ.start(onAccount(43, 'platinum'));
    await waitForState(writ, newcomer.operationId, 'closed', 30_000);
  } finally {
    // Also on failure: the worker cannot stop while an append is still being retried.
    await outage.accept();
  }

  for (const { operationId } of idle) await writ.approve(operationId, { approver: 'bob', reason: 'renewal' });
  for (const operationId of [backingOffId, newcomer.operationId, ...idle.map((op) => op.operationId)]) {
    const result = await writ.result(operationId);
    const types = (await ledgerEvents(ledger, operationId)).map((event) => event.type);
    assert.equal(result.outcome, 'succeeded', `${operationId}: ${types.join(', ')}`);
    assert.equal(types.filter((type) => type === 'operation.planned').length, 1, types.join(', '));
    assert.equal(types.at(-1), 'operation.closed', types.join(', '));
  }
  // The evicted operation's task was given up by the worker and run again: its history says so.
  const history = await client.workflow.getHandle(backingOffId).fetchHistory();
  const givenUp = (history.events ?? []).filter(
    (event) => event.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
  );
  assert.ok(givenUp.length > 0, 'the operation was evicted in the middle of a workflow task');
  const conflicts = await ledger.pool.query(`SELECT count(*)::int AS n FROM writ.records WHERE event_type = $1`, [
    'ledger.key_conflict',
  ]);
  assert.equal(conflicts.rows[0].n, 0);
});
