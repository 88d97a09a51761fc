import type { KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { z } from 'zod';
import type { DecisionKind } from './decision-signature.js';
import { resolutionDigest } from './decision-signature.js';
import { sha256Hex } from './hash.js';

/**
 * A Writ channel's signed statement that a person, authenticated by the channel, made one decision
 * (docs/FORMAT.md, "Channel assertions"): an EdDSA JWS whose claims bind who, through which
 * channel, which decision, on which operation, of which digest, for which reason.
 */
export const CHANNEL_ASSERTION_TYPE = 'writ-decision+jwt';
/** How long an assertion may take to reach the worker: a decision is sent the moment it is made. */
export const CHANNEL_ASSERTION_LIFETIME_SECONDS = 300;

export const channelAssertionClaimsSchema = z.object({
  iss: z.string().min(1),
  sub: z.string().min(1),
  jti: z.string().min(16),
  iat: z.number().int(),
  exp: z.number().int(),
  channel: z.enum(['sso', 'slack']),
  decision: z.enum(['approve', 'reject', 'resolve']),
  op: z.string().min(1),
  digest: z.string().nullable(),
  /** Hex SHA-256 of the reason's UTF-8 (a resolution: of its action and reason, as its signature binds them). */
  reason_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The provider's ID token from the login the decision was made in (single sign-on). */
  id_token: z.string().optional(),
  slack: z.object({ team: z.string().min(1), user: z.string().min(1) }).optional(),
});
export type ChannelAssertionClaims = z.output<typeof channelAssertionClaimsSchema>;

/** A channel key pinned in the directory: its name, its Ed25519 public key and that key's id. */
export interface PinnedChannel {
  name: string;
  key: KeyObject;
  keyId: string;
}

/** What the assertion must say to stand for the decision in hand. */
export interface ExpectedDecision {
  kind: DecisionKind;
  operationId: string;
  digest: string | null;
  reason: string;
  /** Resolutions: what was done by hand (bound with the reason). */
  action?: string;
}

export type ChannelAssertionCheck =
  { ok: true; claims: ChannelAssertionClaims; channel: PinnedChannel } | { ok: false; problem: string };

/** What a channel hashes as the decision's words: the reason, or a resolution's action and reason. */
export function decisionWordsDigest(expected: Pick<ExpectedDecision, 'kind' | 'reason' | 'action'>): string {
  return expected.kind === 'resolve'
    ? resolutionDigest({ action: expected.action ?? '', reason: expected.reason })
    : sha256Hex(expected.reason);
}

const fail = (problem: string): ChannelAssertionCheck => ({ ok: false, problem });

/**
 * Checks an assertion's signature against the pinned channel it names, its age at `at` (seconds),
 * and that it binds exactly the decision in hand: an assertion made for another operation, digest,
 * kind of decision or reason stands for nothing.
 */
export async function checkChannelAssertion(
  assertion: string,
  channels: readonly PinnedChannel[],
  expected: ExpectedDecision,
  at: number,
): Promise<ChannelAssertionCheck> {
  let header;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    return fail('the channel assertion is not a readable JWS');
  }
  if (header.alg !== 'EdDSA') return fail(`the channel assertion is signed with ${String(header.alg)}, not EdDSA`);
  if (header.typ !== CHANNEL_ASSERTION_TYPE)
    return fail(`the channel assertion's type is not ${CHANNEL_ASSERTION_TYPE}`);
  const channel = channels.find((candidate) => candidate.keyId === header.kid);
  if (!channel) return fail(`no pinned Writ channel has the key ${JSON.stringify(header.kid ?? null)}`);
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(assertion, channel.key, {
      algorithms: ['EdDSA'],
      typ: CHANNEL_ASSERTION_TYPE,
      issuer: channel.name,
      currentDate: new Date(at * 1000),
      clockTolerance: 30,
      maxTokenAge: CHANNEL_ASSERTION_LIFETIME_SECONDS,
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return fail('the channel assertion is too old');
    if (error instanceof errors.JWSSignatureVerificationFailed)
      return fail(`the channel assertion's signature does not verify against ${channel.name}'s key`);
    return fail(`the channel assertion does not verify: ${(error as Error)?.message ?? String(error)}`);
  }
  const parsed = channelAssertionClaimsSchema.safeParse(payload);
  if (!parsed.success) return fail('the channel assertion lacks claims a decision needs');
  const claims = parsed.data;
  if (claims.op !== expected.operationId)
    return fail(`the channel assertion is for operation ${claims.op}, not this one`);
  if (claims.decision !== expected.kind)
    return fail(`the channel assertion is for a ${claims.decision}, not a ${expected.kind}`);
  if (claims.digest !== expected.digest) return fail('the channel assertion names another approval digest');
  if (claims.reason_sha256 !== decisionWordsDigest(expected))
    return fail('the channel assertion was made for other words than the decision carries');
  return { ok: true, claims, channel };
}
