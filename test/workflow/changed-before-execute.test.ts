import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import type { TestLedger } from '../support/db.js';
import { withHooks } from '../support/hooked-connector.js';
import { ledgerEvents, startWrit, updateTier, waitForState } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

const policy = {
  id: 'stale-policy',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'tier-changes-need-a-manager',
      match: { connector: 'postgres', action: 'update', target: 'public.accounts/*' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], windowMs: 600_000 },
    },
  ],
};
const approvers = { approvers: [{ id: 'bob', groups: ['managers'] }] };

/** Another writer changes the row in the moment between Writ's last check and its execute step. */
function otherWriterAtSnapshot(nth: number) {
  return (ledger: TestLedger) => [
    withHooks(postgresConnector({ pool: ledger.pool, allowLedgerDatabase: true }), {
      beforeSnapshot: async (call) => {
        if (call === nth) await ledger.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 42`);
      },
    }),
  ];
}

describe('a target changed after the last check and before the write', () => {
  test('an approved write does not overwrite a change made after its approval was checked', async (t) => {
    // Snapshots: 1 validation, 2 the re-read after approval, 3 the execute step.
    const { ledger, writ } = await startWrit(t, { policy, approvers, connectors: otherWriterAtSnapshot(3) });
    const started = await writ.start(updateTier());
    await waitForState(writ, started.operationId, 'awaiting_approval');
    assert.equal((await writ.approve(started.operationId, { approver: 'bob', reason: 'ok' })).accepted, true);
    const result = await writ.result(started.operationId);
    assert.equal(result.outcome, 'failed');
    assert.equal(
      (await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier,
      'bronze',
      "the other writer's change stands",
    );
    const events = await ledgerEvents(ledger, started.operationId);
    const refused = events.find((e) => e.type === 'step.execution_failed');
    assert.ok(refused, JSON.stringify(events.map((e) => e.type)));
    assert.equal(refused.payload.stale, true);
    assert.notEqual(refused.payload.expectedVersion, refused.payload.foundVersion);
    assert.match(
      String(refused.payload.error),
      /postgres:public\.accounts\/42 changed after it was validated and approved .*; nothing was written/,
    );
    assert.equal(
      events.some((e) => e.type === 'step.executed'),
      false,
      'nothing was executed',
    );
  });

  test('without approval, a change between validation and the write is refused the same way', async (t) => {
    const { ledger, writ } = await startWrit(t, { connectors: otherWriterAtSnapshot(2) });
    const started = await writ.start(updateTier());
    assert.equal((await writ.result(started.operationId)).outcome, 'failed');
    assert.equal((await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier, 'bronze');
  });

  test('two steps on the same target are not mistaken for a change by someone else', async (t) => {
    const { ledger, writ } = await startWrit(t);
    const started = await writ.start(
      updateTier({
        steps: [
          { connector: 'postgres', action: 'update', target: 'public.accounts/42', params: { set: { tier: 'gold' } } },
          { connector: 'postgres', action: 'update', target: 'public.accounts/42', params: { set: { balance: 7 } } },
        ],
      }),
    );
    assert.equal((await writ.result(started.operationId)).outcome, 'succeeded');
    assert.deepEqual(
      (await ledger.pool.query('SELECT tier, balance::int AS balance FROM accounts WHERE id = 42')).rows[0],
      { tier: 'gold', balance: 7 },
    );
  });
});
