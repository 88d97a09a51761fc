import { createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { WritError } from '../model/errors.js';
import type { ChannelSigner } from '../identity/channel-signer.js';
import { signChannelAssertion } from '../identity/channel-signer.js';

export type { ChannelSigner } from '../identity/channel-signer.js';

/** Reads an Ed25519 private key (PKCS#8 PEM) from `path`, refusing any other kind of key. */
export function loadChannelSigner(path: string, name: string): ChannelSigner {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new WritError(
      'CONFIG',
      `WRIT_CHANNEL_KEY (${path}) is not a readable private key: ${(error as Error).message}`,
      'Make one with `openssl genpkey -algorithm ed25519 -out channel.key` and pin its public key in the directory under channels.',
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new WritError('CONFIG', `WRIT_CHANNEL_KEY must be an Ed25519 key, not ${privateKey.asymmetricKeyType}`);
  return { name, privateKey };
}

/** One Slack click, as the channel vouches for it. */
export interface SlackDecision {
  /** The directory person the Slack user is. */
  person: string;
  kind: 'approve' | 'reject';
  operationId: string;
  digest: string | null;
  reason: string;
  slack: { team: string; user: string };
}

/**
 * Writ's own signed statement that the Slack user, in a pinned workspace and mapped to `person`,
 * made this decision (src/verify/channel-assertion.ts checks it), signed as every channel signs.
 */
export function signSlackAssertion(signer: ChannelSigner, decision: SlackDecision, nowMs: number): Promise<string> {
  return signChannelAssertion(signer, {
    subject: decision.person,
    channel: 'slack',
    decision: decision.kind,
    operationId: decision.operationId,
    digest: decision.digest,
    reason: decision.reason,
    slack: decision.slack,
    at: Math.floor(nowMs / 1000),
  });
}
