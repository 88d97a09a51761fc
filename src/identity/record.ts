import type { IdentityCheck } from '../model/identity-proof.js';

/** An identity check as a record carries it: what was established and what an auditor re-checks. */
export function identityEvidence(check: IdentityCheck): Record<string, unknown> {
  return Object.fromEntries(Object.entries(check).filter(([, value]) => value !== undefined));
}
