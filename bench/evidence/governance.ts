import type pg from 'pg';
import { loadedDirectory } from '../../src/governance/directory.js';
import { GovernanceRecorder } from '../../src/governance/recorder.js';
import type { LedgerAppender } from '../../src/ledger/appender.js';
import { loadedPolicy } from '../../src/policy/load.js';

/**
 * The governance the fixture's operations are decided under, loaded and put on the record the way
 * a worker does before its first decision: a bundle then carries the policy text and the directory
 * its decisions name, and verifies with no warning, like a real operation's.
 */
const POLICY = loadedPolicy({
  id: 'production',
  // The synthetic operations carry no proofs of identity: their policy says so, as a real one must.
  identity: { requests: 'asserted', decisions: 'asserted' },
  rules: [
    {
      name: 'reviewed-changes-need-a-manager',
      match: { target: 'public.accounts/*' },
      approvals: { required: 1, fromGroups: ['managers'] },
    },
  ],
});
const DIRECTORY = loadedDirectory({
  approvers: [{ id: 'bob', groups: ['managers'] }],
  requesters: [{ id: 'alice', groups: ['sales-ops'] }],
});

export const POLICY_REVISION = POLICY.revision;
export const DIRECTORY_VERSION = DIRECTORY.version;
/** How many records recordGovernance appends: none of them belongs to an operation. */
export const GOVERNANCE_RECORDS = 2;

export async function recordGovernance(pool: pg.Pool, appender: LedgerAppender): Promise<void> {
  const recorder = new GovernanceRecorder(pool, appender);
  await recorder.policy(POLICY);
  await recorder.directory(DIRECTORY);
}
