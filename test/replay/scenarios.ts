import type { OperationRequestInput } from '../../src/model/request.js';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { withHooks } from '../support/hooked-connector.js';
import type { HarnessOptions, WritHarness } from '../support/writ.js';
import { updateTier, waitFor, waitForState } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

/**
 * The operations whose histories are recorded and replayed against today's workflow code: one per
 * path through the lifecycle, so a non-deterministic change to any of them fails CI.
 */
export interface Scenario {
  name: string;
  outcome: string;
  options?: HarnessOptions;
  request: OperationRequestInput;
  drive?: (harness: WritHarness, operationId: string) => Promise<void>;
}

const approvalPolicy = {
  id: 'replay',
  identity: ASSERTED_IDENTITIES,
  rules: [{ name: 'review', risk: 'high' as const, approvals: { required: 1, fromGroups: ['managers'] } }],
};
const approvers = {
  approvers: [
    { id: 'bob', groups: ['managers'] },
    { id: 'carol', groups: ['managers'] },
  ],
};

export const SCENARIOS: Scenario[] = [
  { name: 'succeeded', outcome: 'succeeded', request: updateTier() },
  { name: 'dry-run', outcome: 'dry_run', request: updateTier({ mode: 'dry-run' }) },
  {
    name: 'invalid',
    outcome: 'invalid',
    request: updateTier({
      steps: [{ connector: 'postgres', action: 'update', target: 'public.no_such_table/1', params: { set: { a: 1 } } }],
    }),
  },
  {
    name: 'approved-after-refusal',
    outcome: 'succeeded',
    options: { policy: approvalPolicy, approvers },
    request: updateTier(),
    drive: async ({ writ }, id) => {
      await waitForState(writ, id, 'awaiting_approval');
      await writ.approve(id, { approver: 'alice', reason: 'self' });
      await writ.approve(id, { approver: 'bob', reason: 'ok' });
    },
  },
  {
    name: 'rejected',
    outcome: 'rejected',
    options: { policy: approvalPolicy, approvers },
    request: updateTier(),
    drive: async ({ writ }, id) => {
      await waitForState(writ, id, 'awaiting_approval');
      await writ.reject(id, { approver: 'carol', reason: 'no' });
    },
  },
  {
    name: 'stale-approval',
    outcome: 'succeeded',
    options: { policy: approvalPolicy, approvers },
    request: updateTier(),
    drive: async ({ writ, ledger }, id) => {
      await waitForState(writ, id, 'awaiting_approval');
      await ledger.pool.query(`UPDATE accounts SET name = 'Acme Corp' WHERE id = 42`);
      await writ.approve(id, { approver: 'bob', reason: 'first' });
      // Until the workflow has seen the change and asks again (the state alone reads the same before).
      await waitFor('the approval to go stale', async () =>
        (await writ.state(id)).transitions.some(
          (tr) => tr.to === 'awaiting_approval' && tr.note === 'the approval went stale',
        ),
      );
      await writ.approve(id, { approver: 'carol', reason: 'second' });
    },
  },
  {
    name: 'rolled-back',
    outcome: 'rolled_back',
    request: updateTier(),
    options: {
      connectors: (l) => [
        withHooks(postgresConnector({ pool: l.pool, allowLedgerDatabase: true }), {
          beforeVerify: async () => void (await l.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 42`)),
        }),
      ],
    },
  },
  {
    name: 'resolved-manually',
    outcome: 'resolved_manually',
    request: updateTier(),
    options: {
      // Resolving is a decision: dana must be a directory person with standing.
      approvers: { approvers: [{ id: 'dana', groups: ['oncall'] }] },
      connectors: (l) => [
        withHooks(postgresConnector({ pool: l.pool, allowLedgerDatabase: true }), {
          beforeVerify: async () => void (await l.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 42`)),
          rollback: async () => {
            throw new Error('refused');
          },
        }),
      ],
    },
    drive: async ({ writ }, id) => {
      await waitForState(writ, id, 'needs_intervention');
      await writ.resolve(id, { by: 'dana', action: 'fixed by hand', reason: 'rollback refused' });
    },
  },
];
