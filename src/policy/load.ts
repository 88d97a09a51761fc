import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { canonicalText } from '../ledger/canonical.js';
import type { Policy } from '../model/policy.js';
import { OPEN_POLICY, policySchema } from '../model/policy.js';
import { describeProblems } from '../model/request.js';

export interface LoadedPolicy {
  policy: Policy;
  /** sha256 of the policy's canonical JSON: a changed policy invalidates approvals given under the old one. */
  revision: string;
}

export function policyRevision(policy: Policy): string {
  return `sha256:${createHash('sha256').update(canonicalText(policy)).digest('hex')}`;
}

export function loadedPolicy(input: unknown): LoadedPolicy {
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid policy: ${describeProblems(parsed.error)}`);
  return { policy: parsed.data, revision: policyRevision(parsed.data) };
}

/** Reads the policy file on every call, so an edited policy takes effect (and shows as a new revision). */
export function policyFromFile(path: string | undefined): () => Promise<LoadedPolicy> {
  if (!path) return async () => ({ policy: OPEN_POLICY, revision: policyRevision(OPEN_POLICY) });
  return async () => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the policy file ${path}: ${(error as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`the policy file ${path} is not JSON: ${(error as Error).message}`);
    }
    try {
      return loadedPolicy(json);
    } catch (error) {
      throw new Error(`${path}: ${(error as Error).message}`);
    }
  };
}
