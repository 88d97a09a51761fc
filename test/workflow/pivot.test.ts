import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import type { Connector } from '../../src/connectors/types.js';
import { ledgerEvents, startWrit, updateTier, waitForState } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

/** The rows connector with one more action that cannot be undone: a pivot. */
function withPurge(base: Connector): Connector {
  const del = base.actions.delete!;
  return {
    ...base,
    actions: {
      ...base.actions,
      purge: {
        ...del,
        contract: { ...del.contract, canRollback: false, method: 'none', limitations: 'purged rows are gone for good' },
      },
    },
  };
}

const policy = {
  id: 'pivots',
  identity: ASSERTED_IDENTITIES,
  rules: [],
  pivot: { risk: 'critical' as const, approvals: { required: 1, fromGroups: ['dba'] } },
};
const approvers = { approvers: [{ id: 'pat', groups: ['dba'] }] };

describe('when a step cannot be rolled back (a pivot)', () => {
  test('policy can require approval before it, and reversible steps alone do not', async (t) => {
    const { ledger, writ } = await startWrit(t, {
      policy,
      approvers,
      connectors: (l) => [withPurge(postgresConnector({ pool: l.pool, allowLedgerDatabase: true }))],
    });

    const reversible = await writ.start(updateTier());
    assert.equal(
      (await writ.result(reversible.operationId)).outcome,
      'succeeded',
      'a reversible write needs no approval',
    );

    const { operationId } = await writ.start(
      updateTier({
        intent: 'purge a closed account',
        steps: [{ connector: 'postgres', action: 'purge', target: 'public.accounts/43', params: {} }],
      }),
    );
    await waitForState(writ, operationId, 'awaiting_approval');
    const state = await writ.state(operationId);
    assert.equal(state.envelope?.policy.risk, 'critical');
    assert.deepEqual(state.envelope?.policy.matchedRules, ['pivot:step-0']);
    assert.match(state.envelope!.policy.reasons[0]!, /postgres\.purge cannot be rolled back \(none\)/);
    assert.equal(
      (await ledger.pool.query('SELECT count(*)::int AS n FROM accounts WHERE id = 43')).rows[0].n,
      1,
      'nothing purged before approval',
    );
    await writ.approve(operationId, { approver: 'pat', reason: 'account closed in 2024' });
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');
    assert.equal((await ledger.pool.query('SELECT count(*)::int AS n FROM accounts WHERE id = 43')).rows[0].n, 0);
    const decided = (await ledgerEvents(ledger, operationId)).find((e) => e.type === 'policy.decided');
    assert.equal((decided?.payload.decision as { risk: string }).risk, 'critical');
  });
});
