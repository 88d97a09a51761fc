import assert from 'node:assert/strict';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import type { OperationRequestInput } from '../../src/model/request.js';
import { withHooks } from './hooked-connector.js';
import { ASSERTED_IDENTITIES } from './identities.js';
import type { WritHarness } from './writ.js';
import { startWrit, updateTier, waitForState } from './writ.js';

/**
 * Real governed writes whose records cover every kind an OCSF export maps: a refused and a granted
 * approval, a rejection, a write that fails verification and is rolled back, changes to a users
 * table (account changes when configured so) and a dry run. Every value written is a sentinel
 * string, so a test can prove that no state reaches the export.
 */

export const SENTINELS = {
  approvedTier: 'tier-secret-platinum',
  rejectedTier: 'tier-secret-bronze',
  rolledBackTier: 'tier-secret-gold',
  sabotageTier: 'tier-secret-sabotage',
  email: 'ada.lovelace.secret@example.org',
  name: 'Ada Secret-Lovelace',
  existingEmail: 'grace.hopper.secret@example.org',
  existingName: 'Grace Secret-Hopper',
  dryRunEmail: 'dry.run.secret@example.org',
  intent: 'intent-secret raise the tier',
  reason: 'reason-secret renewal confirmed',
  rejection: 'reason-secret not agreed',
};

const policy = {
  id: 'ocsf-test',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'acme-needs-a-manager',
      match: { connector: 'postgres', target: 'public.accounts/42' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'] },
    },
    { name: 'globex-is-routine', match: { connector: 'postgres', target: 'public.accounts/43' }, risk: 'low' },
    { name: 'users-are-routine', match: { connector: 'postgres', target: 'public.users/*' }, risk: 'low' },
  ],
};

const approvers = {
  approvers: [
    { id: 'alice', groups: ['sales-ops'] },
    { id: 'bob', groups: ['managers'] },
    { id: 'carol', groups: ['managers'] },
  ],
};

export interface OcsfScenario {
  harness: WritHarness;
  ids: { approved: string; rejected: string; rolledBack: string; users: string; dryRun: string };
}

const usersRequest = (mode: 'execute' | 'dry-run'): OperationRequestInput => ({
  actor: { id: 'alice', kind: 'user', groups: ['sales-ops'] },
  intent: SENTINELS.intent,
  mode,
  steps:
    mode === 'dry-run'
      ? [
          {
            connector: 'postgres',
            action: 'insert',
            target: 'public.users/9',
            params: { values: { email: SENTINELS.dryRunEmail, full_name: SENTINELS.name } },
          },
        ]
      : [
          {
            connector: 'postgres',
            action: 'insert',
            target: 'public.users/7',
            params: { values: { email: SENTINELS.email, full_name: SENTINELS.name } },
          },
          { connector: 'postgres', action: 'update', target: 'public.users/8', params: { set: { disabled: true } } },
        ],
});

async function start(t: { after: (fn: () => Promise<void>) => void }, sabotage: { armed: boolean }) {
  const harness = await startWrit(t, {
    policy,
    approvers,
    connectors: (l) => [
      withHooks(postgresConnector({ pool: l.pool, allowLedgerDatabase: true }), {
        // Someone else edits Globex between our write and our read-back, once, when armed.
        beforeVerify: async () => {
          if (!sabotage.armed) return;
          sabotage.armed = false;
          await l.pool.query(`UPDATE accounts SET tier = $1 WHERE id = 43`, [SENTINELS.sabotageTier]);
        },
      }),
    ],
  });
  await harness.ledger.pool.query(
    `CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, full_name text NOT NULL, disabled boolean NOT NULL DEFAULT false)`,
  );
  await harness.ledger.pool.query(`INSERT INTO users VALUES (8, $1, $2, false)`, [
    SENTINELS.existingEmail,
    SENTINELS.existingName,
  ]);
  return harness;
}

export async function ocsfScenario(t: { after: (fn: () => Promise<void>) => void }): Promise<OcsfScenario> {
  const sabotage = { armed: false };
  const harness = await start(t, sabotage);
  const { writ } = harness;
  const approved = (await writ.start(updateTier({ intent: SENTINELS.intent }, SENTINELS.approvedTier))).operationId;
  await waitForState(writ, approved, 'awaiting_approval');
  assert.equal((await writ.approve(approved, { approver: 'alice', reason: SENTINELS.reason })).accepted, false);
  assert.equal((await writ.approve(approved, { approver: 'bob', reason: SENTINELS.reason })).accepted, true);
  assert.equal((await writ.result(approved)).outcome, 'succeeded');

  const rejected = (await writ.start(updateTier({ intent: SENTINELS.intent }, SENTINELS.rejectedTier))).operationId;
  await waitForState(writ, rejected, 'awaiting_approval');
  await writ.reject(rejected, { approver: 'carol', reason: SENTINELS.rejection });
  assert.equal((await writ.result(rejected)).outcome, 'rejected');

  sabotage.armed = true;
  const globex = updateTier({ intent: SENTINELS.intent }, SENTINELS.rolledBackTier);
  const rolledBack = (await writ.start({ ...globex, steps: [{ ...globex.steps[0]!, target: 'public.accounts/43' }] }))
    .operationId;
  assert.equal((await writ.result(rolledBack)).outcome, 'rolled_back');

  const users = (await writ.start(usersRequest('execute'))).operationId;
  assert.equal((await writ.result(users)).outcome, 'succeeded');
  const dryRun = (await writ.start(usersRequest('dry-run'))).operationId;
  assert.equal((await writ.result(dryRun)).outcome, 'dry_run');
  return { harness, ids: { approved, rejected, rolledBack, users, dryRun } };
}
