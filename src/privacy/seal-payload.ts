import { randomBytes } from 'node:crypto';
import { escapePointer, sealedCommitment, sealedMarker, sealedMarkerOf, MIN_SALT_BYTES } from '../verify/sealed.js';
import type { SealPlan } from './personal-rules.js';

/** One value taken out of a record: what `writ.sealed_values` keeps until erasure or retention. */
export interface SealedValue {
  pointer: string;
  subject: string;
  salt: string;
  value: unknown;
  commitment: string;
}

export type SaltFor = (pointer: string) => string;

export const freshSalt: SaltFor = () => randomBytes(MIN_SALT_BYTES * 2).toString('base64url');

/**
 * Replaces each personal member the plans name with its marker. The first plan that names a member
 * decides its subject; a member already sealed is not sealed twice. Returns the payload as it will
 * be hashed, and the values with their salts.
 */
export function sealPayload(
  payload: Record<string, unknown>,
  plans: readonly SealPlan[],
  saltFor: SaltFor = freshSalt,
): { payload: Record<string, unknown>; sealed: SealedValue[] } {
  const sealed: SealedValue[] = [];
  const seal = (value: unknown, pointer: string, subject: string) => {
    const salt = saltFor(pointer);
    const commitment = sealedCommitment(salt, pointer, value);
    sealed.push({ pointer, subject, salt, value, commitment });
    return sealedMarker(commitment);
  };
  let result: Record<string, unknown> = payload;
  for (const plan of plans) {
    const next: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(result)) {
      const pointer = `/${escapePointer(name)}`;
      if (sealedMarkerOf(value)) next[name] = value;
      else if (plan.within && !plan.within.includes(name)) next[name] = value;
      else if (!plan.within && plan.fields.has(name)) next[name] = seal(value, pointer, plan.subject);
      else if (plan.deep) next[name] = sealWithin(value, pointer, plan, seal);
      else next[name] = value;
    }
    result = next;
  }
  return { payload: result, sealed };
}

function sealWithin(
  value: unknown,
  pointer: string,
  plan: SealPlan,
  seal: (value: unknown, pointer: string, subject: string) => unknown,
): unknown {
  if (Array.isArray(value)) return value.map((inner, index) => sealWithin(inner, `${pointer}/${index}`, plan, seal));
  if (!value || typeof value !== 'object' || sealedMarkerOf(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [name, inner] of Object.entries(value)) {
    const at = `${pointer}/${escapePointer(name)}`;
    const personal = plan.fields.has(name) && inner !== null && !sealedMarkerOf(inner);
    out[name] = personal ? seal(inner, at, plan.subject) : sealWithin(inner, at, plan, seal);
  }
  return out;
}
