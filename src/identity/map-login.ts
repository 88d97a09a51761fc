import type { JWTPayload } from 'jose';
import type { People, Person } from './people.js';

/**
 * The directory person a provider's verified claims name: by issuer and subject, or else by an
 * email the provider itself says is verified. An unverified email names no one: anyone can put
 * any address on an account at most providers.
 */
export function personOfLogin(people: People, claims: JWTPayload & { iss: string; sub: string }): Person | undefined {
  const bySubject = people.byLogin(claims.iss, claims.sub);
  if (bySubject) return bySubject;
  if (typeof claims.email === 'string' && claims.email_verified === true) return people.byVerifiedEmail(claims.email);
  return undefined;
}

export function loginName(claims: { iss: string; sub: string }): string {
  return `subject ${JSON.stringify(claims.sub)} at ${claims.iss}`;
}
