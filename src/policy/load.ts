import { cachedFile } from '../governance/file-cache.js';
import { canonicalDigest } from '../verify/hash.js';
import type { Policy } from '../model/policy.js';
import { OPEN_POLICY, policySchema } from '../model/policy.js';
import { describeIssues } from '../model/issues.js';

export interface LoadedPolicy {
  policy: Policy;
  /** sha256 of the policy's canonical JSON: a changed policy invalidates approvals given under the old one. */
  revision: string;
}

export function policyRevision(policy: Policy): string {
  return canonicalDigest(policy);
}

export function loadedPolicy(input: unknown): LoadedPolicy {
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid policy: ${describeIssues(parsed.error, { whole: '(policy)' })}`);
  return { policy: parsed.data, revision: policyRevision(parsed.data) };
}

/**
 * Reads the policy file again whenever it changes, so an edit takes effect (and shows as a new
 * revision) without a restart.
 */
export function policyFromFile(path: string | undefined): () => Promise<LoadedPolicy> {
  if (!path) return async () => ({ policy: OPEN_POLICY, revision: policyRevision(OPEN_POLICY) });
  return cachedFile(path, 'policy file', loadedPolicy);
}
