import { readFile } from 'node:fs/promises';
import { createPrivateKey } from 'node:crypto';
import type { DecisionBinding } from '../../verify/decision-signature.js';
import { signDecision } from '../../approvals/sign.js';
import type { OperationState } from '../../model/operation.js';
import { CliExit, EXIT } from '../shared/exit.js';
import { describePlan } from '../format/plan.js';

/**
 * Prints the plan as the workflow reports it and signs exactly the digest printed with it, bound
 * to the operation id and the kind of decision. A digest the operator reviewed earlier must be
 * that one: otherwise the operation changed since, and signing would approve something unseen.
 */
export async function signShownPlan(
  state: OperationState,
  kind: DecisionBinding['kind'],
  keyFile: string,
  reviewed: string | undefined,
  resolution?: { action: string; reason: string },
): Promise<{ digest: string; signature: string }> {
  console.log(describePlan(state, kind));
  const digest = state.approvals.digest;
  if (!digest)
    throw new CliExit(
      EXIT.bad,
      `operation ${state.operationId} has no approval digest yet (it is ${state.state}): nothing to sign`,
    );
  if (reviewed !== undefined && reviewed !== digest) {
    throw new CliExit(
      EXIT.bad,
      `the digest you reviewed (${reviewed}) is not the one the operation waits for now (${digest}): the parameters, a target or the policy changed. Review the plan above and sign again; nothing was sent`,
    );
  }
  let key;
  try {
    key = createPrivateKey(await readFile(keyFile, 'utf8'));
  } catch (error) {
    throw new CliExit(EXIT.usage, `cannot use the signing key ${keyFile}: ${(error as Error).message}`);
  }
  const signature = signDecision(
    { kind, operationId: state.operationId, digest, ...(resolution ? { resolution } : {}) },
    key,
  );
  console.log(`signed: ${kind} of ${state.operationId} at digest ${digest}`);
  return { digest, signature };
}
