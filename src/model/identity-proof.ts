import { z } from 'zod';

/**
 * How a request or a decision proves who sent it (docs/FORMAT.md, "Identity proofs"). Whoever can
 * reach Temporal can put any name in a payload; only a proof says who it really is:
 * - `token`: a JWT from an identity provider the directory trusts (a service's client-credentials
 *   token), checked against the provider's published keys; good for one request only;
 * - `key`: an Ed25519 signature by the key the directory lists for the person, over the request's
 *   or the decision's message;
 * - `channel`: an assertion signed by a Writ channel the directory pins (`writ serve` after a
 *   single sign-on login or a signed Slack click), carrying the provider's ID token where there is one.
 */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

// Built on first use (z.lazy): the workflow sandbox re-runs this module for every new workflow,
// and most workflows never parse a proof.
export const identityProofSchema = z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('token'),
      token: z.string().max(16_384).regex(JWT, 'token must be a compact JWT (three base64url parts joined by ".")'),
    }),
    z.strictObject({
      kind: z.literal('key'),
      signature: z.string().min(1).max(512),
    }),
    z.strictObject({
      kind: z.literal('channel'),
      assertion: z
        .string()
        .max(32_768)
        .regex(JWT, 'assertion must be a compact JWS (three base64url parts joined by ".")'),
    }),
  ]),
);
export type IdentityProof = z.output<typeof identityProofSchema>;

/** How someone's identity reached Writ; `asserted`: nothing proved it, the name is as given. */
export type IdentityChannel = 'token' | 'key' | 'sso' | 'slack' | 'asserted';

/**
 * What checking a proof established, as it goes on the record. `verified` is true only when the
 * proof checked out and names `id`; the rest is what an auditor needs to check it again.
 */
export interface IdentityCheck {
  verified: boolean;
  /** The directory person the proof establishes (canonical), or null when it establishes no one. */
  id: string | null;
  channel: IdentityChannel;
  /** Why the proof does not establish anyone; absent when verified or when no proof was given. */
  problem?: string;
  /** Hex SHA-256 of the proof as given: the same proof is accepted once only. */
  proofSha256?: string;
  /** The identity provider's issuer and subject, where a provider's token took part. */
  issuer?: string;
  subject?: string;
  /** The provider key that verified its token: RFC 7638 thumbprint (recorded as governance.identity_key). */
  providerKey?: string;
  /** When the channel says the decision was made (seconds since the epoch). */
  at?: number;
  /** When the person last signed in at the provider (seconds since the epoch), where it says. */
  authTime?: number;
  /** The pinned Writ channel whose key signed the assertion. */
  channelName?: string;
  /** Hex SHA-256 of the Ed25519 key (person's or channel's) that signed. */
  keyId?: string;
  /** The proof material itself: the provider's token and the channel's assertion, for offline re-checks. */
  token?: string;
  assertion?: string;
  signature?: string;
  /** Slack's team and user, where the decision came through Slack. */
  slack?: { team: string; user: string };
}

/** What checking establishes when no proof came: nobody, only the name as given. */
export const NO_PROOF: IdentityCheck = { verified: false, id: null, channel: 'asserted' };

/** A proof that was given and establishes no one, with why and whatever of it can be checked again. */
export function refusedProof(
  channel: IdentityChannel,
  problem: string,
  more: Partial<IdentityCheck> = {},
): IdentityCheck {
  return { verified: false, id: null, channel, problem, ...more };
}

/** An identity check as a record carries it: what was established and what an auditor re-checks. */
export function identityEvidence(check: IdentityCheck): Record<string, unknown> {
  return Object.fromEntries(Object.entries(check).filter(([, value]) => value !== undefined));
}

/** What policy asks of identities (the policy's `identity`); `asserted` is an explicit opt-out. */
export type IdentityRequirement = 'verified' | 'asserted';

export const NOT_VERIFIED = 'identity not verified';
