import { createHash } from 'node:crypto';
import { policyKey, directoryKey } from '../../src/governance/recorder.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import { DEFAULT_CHAIN } from '../../src/ledger/record.js';
import { GovernanceType } from '../../src/model/events.js';
import { canonicalText } from '../../src/verify/canonical.js';

/**
 * The governance the fixture's operations are decided under, on the record before any of them, as
 * a worker puts it there: a bundle then carries the policy text and the directory its decisions
 * name, and verifies with no warning, like a real operation's.
 */
const revisionOf = (content: unknown) =>
  `sha256:${createHash('sha256').update(canonicalText(content), 'utf8').digest('hex')}`;

const POLICY = {
  id: 'production',
  rules: [
    { name: 'reviewed-changes-need-a-manager', match: { effect: 'modify' }, approvals: 1, fromGroups: ['managers'] },
  ],
};
const DIRECTORY = {
  approvers: [{ id: 'bob', groups: ['managers'] }],
  requesters: [{ id: 'alice', groups: ['sales-ops'] }],
};

export const POLICY_REVISION = revisionOf(POLICY);
export const DIRECTORY_VERSION = revisionOf(DIRECTORY);

const WRIT = { id: 'writ', kind: 'service' as const, groups: [] };

export function governanceDrafts(): RecordDraft[] {
  return [
    {
      type: GovernanceType.policy,
      chain: DEFAULT_CHAIN,
      idempotencyKey: policyKey(POLICY_REVISION),
      actor: WRIT,
      payload: { revision: POLICY_REVISION, policyId: POLICY.id, policy: POLICY },
    },
    {
      type: GovernanceType.directory,
      chain: DEFAULT_CHAIN,
      idempotencyKey: directoryKey(DIRECTORY_VERSION),
      actor: WRIT,
      payload: { version: DIRECTORY_VERSION, directory: DIRECTORY },
    },
  ] as RecordDraft[];
}
