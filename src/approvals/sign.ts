import { sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { DecisionBinding } from '../verify/decision-signature.js';
import { decisionMessage } from '../verify/decision-signature.js';

/**
 * The standard-base64 Ed25519 signature over a decision's message, as `writ approve --key` sends
 * it. Signing is the decider's side, so it lives here; the verifier only ever checks the message.
 */
export function signDecision(binding: DecisionBinding, privateKey: KeyObject): string {
  return sign(null, decisionMessage(binding), privateKey).toString('base64');
}
