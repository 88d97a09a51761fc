import type { PolicyDecision } from './policy.js';
import type { Actor, Mode } from './request.js';

export interface TargetIdentity {
  stepIndex: number;
  connector: string;
  action: string;
  target: string;
  identity: string;
}

/** Computed once, recorded, never changed (DESIGN.md section 1). */
export interface Envelope {
  operationId: string;
  actor: Actor;
  correlationId: string;
  traceparent: string;
  intent: string;
  /** SHA-256 of the RFC 8785 canonical JSON of the steps. */
  paramsHash: string;
  targets: TargetIdentity[];
  mode: Mode;
  labels: Record<string, string>;
  requestedAt: string;
  /**
   * The ledger chain every record of the operation goes to, chosen when its first record was
   * written and carried from then on, so a change of WRIT_CHAINS never splits a running operation.
   * Absent in envelopes planned before chains were chosen (those operations are on chain main).
   */
  chain?: string;
}

export interface ValidatedEnvelope extends Envelope {
  policy: PolicyDecision;
}

/** The envelope fields every record of an operation carries. */
export type EnvelopeRef = Pick<Envelope, 'operationId' | 'correlationId' | 'traceparent' | 'actor' | 'chain'>;

/**
 * A one-line description for the Temporal Web UI and chat: "update postgres:public.accounts/42 for
 * alice: raise tier".
 */
export function summarise(envelope: Pick<Envelope, 'targets' | 'actor' | 'intent' | 'mode'>): string {
  const first = envelope.targets[0];
  const what = first ? `${first.action} ${first.identity}` : 'no step';
  const more =
    envelope.targets.length > 1
      ? ` (+${envelope.targets.length - 1} more step${envelope.targets.length > 2 ? 's' : ''})`
      : '';
  return `${envelope.mode === 'dry-run' ? 'dry run: ' : ''}${what}${more} for ${envelope.actor.id}: ${envelope.intent}`.slice(
    0,
    400,
  );
}
