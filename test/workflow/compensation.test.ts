import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import type { OperationRequestInput } from '../../src/model/request.js';
import { withHooks } from '../support/hooked-connector.js';
import { ledgerEvents, startWrit, updateTier, waitForState } from '../support/writ.js';

/** Resolving is a decision: the person who fixed things by hand must be in the approver directory. */
const approvers = { approvers: [{ id: 'dana', groups: ['oncall'] }] };

const twoSteps: OperationRequestInput = {
  actor: { id: 'alice', kind: 'user' },
  intent: 'move Acme to gold and Globex to platinum',
  steps: [
    {
      connector: 'postgres',
      action: 'update',
      target: 'public.accounts/42',
      params: { set: { tier: 'gold', balance: 250 } },
    },
    { connector: 'postgres', action: 'update', target: 'public.accounts/43', params: { set: { tier: 'platinum' } } },
  ],
};

describe('when verification fails', () => {
  test('the compensations run in reverse and restore every row exactly', async (t) => {
    let verifications = 0;
    const { ledger, writ } = await startWrit(t, {
      approvers,
      connectors: (l) => [
        withHooks(postgresConnector({ pool: l.pool, allowLedgerDatabase: true }), {
          // Someone else edits Globex between our write and our read-back of step two.
          beforeVerify: async () => {
            if (++verifications === 2) await l.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 43`);
          },
        }),
      ],
    });
    const before = (await ledger.pool.query('SELECT to_jsonb(a) AS row FROM accounts a ORDER BY id')).rows;
    const { operationId } = await writ.start(twoSteps);
    const result = await writ.result(operationId);
    assert.equal(result.outcome, 'rolled_back');
    const after = (await ledger.pool.query('SELECT to_jsonb(a) AS row FROM accounts a ORDER BY id')).rows;
    assert.deepEqual(after, before, 'both rows are exactly as they were');

    const events = (await ledgerEvents(ledger, operationId)).map(
      (e) => `${e.type}${e.stepIndex === null ? '' : `#${e.stepIndex}`}`,
    );
    assert.deepEqual(events.slice(events.indexOf('step.verification_failed#1')), [
      'step.verification_failed#1',
      'step.compensating#1',
      'step.compensated#1',
      'step.compensating#0',
      'step.compensated#0',
      'operation.compensated',
      'operation.closed',
    ]);
    const state = await writ.state(operationId);
    assert.deepEqual(
      state.steps.map((s) => s.status),
      ['compensated', 'compensated'],
    );
    assert.match(state.steps[1]!.verification!.reason!, /tier/);
  });
});

describe('when a compensation fails', () => {
  test('the failure is never swallowed: the operation needs intervention until someone resolves it', async (t) => {
    let verifications = 0;
    const { ledger, writ } = await startWrit(t, {
      approvers,
      connectors: (l) => [
        withHooks(postgresConnector({ pool: l.pool, allowLedgerDatabase: true }), {
          beforeVerify: async () => {
            if (++verifications === 1) await l.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 42`);
          },
          rollback: async () => {
            throw new Error('the CRM is read-only for maintenance');
          },
        }),
      ],
    });
    const { operationId } = await writ.start(updateTier());
    await waitForState(writ, operationId, 'needs_intervention', 60_000);
    const stuck = await writ.state(operationId);
    assert.equal(stuck.steps[0]!.status, 'compensation_failed');
    assert.match(
      stuck.transitions.find((tr) => tr.to === 'compensation_failed')?.note ?? '',
      /read-only for maintenance/,
    );

    const early = await writ.reject(operationId, { approver: 'bob', reason: 'too late' });
    assert.equal(early.accepted, false);
    const resolved = await writ.resolve(operationId, {
      by: 'dana',
      action: 'restored tier=silver by hand in the CRM',
      reason: 'rollback was refused during maintenance',
    });
    assert.equal(resolved.accepted, true);
    const result = await writ.result(operationId);
    assert.equal(result.outcome, 'resolved_manually');

    const events = await ledgerEvents(ledger, operationId);
    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(types.indexOf('step.compensating')), [
      'step.compensating',
      'step.compensation_failed',
      'operation.compensation_failed',
      'operation.needs_intervention',
      'approval.refused',
      'operation.resolved',
      'operation.closed',
    ]);
    assert.equal(
      events.find((e) => e.type === 'approval.refused')?.payload.refusal,
      'the operation is not awaiting approval',
    );
    assert.equal(events.find((e) => e.type === 'operation.resolved')?.payload.by, 'dana');
  });
});

describe('when the rollback window has passed', () => {
  test('the rollback is refused with the reason and the operation needs intervention', async (t) => {
    // The steps' clock, moved past the window while the write is verified: no waiting for real time.
    let offsetMs = 0;
    const { ledger, writ } = await startWrit(t, {
      approvers,
      now: () => new Date(Date.now() + offsetMs),
      connectors: (l) => [
        withHooks(postgresConnector({ pool: l.pool, allowLedgerDatabase: true, rollbackWindowMs: 60_000 }), {
          beforeVerify: async () => {
            // Someone else changes the row; by the time we would undo our write, the window is gone.
            await l.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 42`);
            offsetMs = 3_600_000;
          },
        }),
      ],
    });
    const { operationId } = await writ.start(updateTier());
    await waitForState(writ, operationId, 'needs_intervention', 60_000);
    const failed = (await ledgerEvents(ledger, operationId)).find((e) => e.type === 'step.compensation_failed');
    assert.match(String(failed?.payload.error), /rollback window of 60000 ms has passed \(executed 36\d{5} ms ago\)/);
    assert.equal(
      (await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier,
      'bronze',
      'nothing was restored outside the window',
    );
    await writ.resolve(operationId, { by: 'dana', action: 'left as is', reason: 'the customer changed it on purpose' });
    assert.equal((await writ.result(operationId)).outcome, 'resolved_manually');
  });
});

describe('when the reply to a write is lost and the step is retried', () => {
  test("the rollback restores the state from before the first attempt, not the retry's view of its own write", async (t) => {
    let lost = false;
    const { ledger, writ } = await startWrit(t, {
      approvers,
      connectors: (l) => [
        withHooks(postgresConnector({ pool: l.pool, allowLedgerDatabase: true }), {
          afterExecute: async () => {
            if (!lost) {
              lost = true;
              throw new Error('connection reset after the write committed');
            }
          },
          beforeVerify: async () => void (await l.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 42`)),
        }),
      ],
    });
    const { operationId } = await writ.start(updateTier());
    assert.equal((await writ.result(operationId)).outcome, 'rolled_back');
    assert.equal(
      (await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier,
      'silver',
      'the original state is back',
    );
    const executing = (await ledgerEvents(ledger, operationId)).filter((e) => e.type === 'step.executing');
    assert.equal(executing.length, 1, 'the retry wrote no second step.executing');
  });
});
