import { createPublicKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ChannelAssertionClaims } from '../verify/channel-assertion.js';
import {
  CHANNEL_ASSERTION_LIFETIME_SECONDS,
  CHANNEL_ASSERTION_TYPE,
  decisionWordsDigest,
} from '../verify/channel-assertion.js';
import { approverKeyId } from '../verify/decision-signature.js';

/** A Writ channel's signing identity: its name (the assertions' `iss`) and its Ed25519 private key. */
export interface ChannelSigner {
  name: string;
  privateKey: KeyObject;
}

export interface ChannelDecision {
  /** The directory person the channel authenticated. */
  subject: string;
  channel: ChannelAssertionClaims['channel'];
  decision: 'approve' | 'reject';
  operationId: string;
  digest: string | null;
  reason: string;
  /** The provider's ID token from the login the decision was made in. */
  idToken?: string;
  slack?: { team: string; user: string };
  /** Seconds since the epoch. */
  at: number;
}

/**
 * Signs the channel's statement that `subject` made this decision (docs/FORMAT.md, "Channel
 * assertions"): the claims src/verify/channel-assertion.ts checks, under the key id the directory
 * derives from the channel's pinned public key, so the worker finds the key without being told.
 */
export async function signChannelAssertion(signer: ChannelSigner, decision: ChannelDecision): Promise<string> {
  if (signer.privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error(`a Writ channel key must be Ed25519, not ${String(signer.privateKey.asymmetricKeyType)}`);
  const claims: ChannelAssertionClaims = {
    iss: signer.name,
    sub: decision.subject,
    jti: randomBytes(16).toString('hex'),
    iat: decision.at,
    exp: decision.at + CHANNEL_ASSERTION_LIFETIME_SECONDS,
    channel: decision.channel,
    decision: decision.decision,
    op: decision.operationId,
    digest: decision.digest,
    reason_sha256: decisionWordsDigest({ kind: decision.decision, reason: decision.reason }),
    ...(decision.idToken ? { id_token: decision.idToken } : {}),
    ...(decision.slack ? { slack: decision.slack } : {}),
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', typ: CHANNEL_ASSERTION_TYPE, kid: channelKeyId(signer.privateKey) })
    .sign(signer.privateKey);
}

/** The key id the directory gives the channel's public key: hex SHA-256 of its 32 raw bytes. */
export function channelKeyId(privateKey: KeyObject): string {
  return approverKeyId(createPublicKey(privateKey));
}
