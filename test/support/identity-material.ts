import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK } from 'jose';
import type { OperationRequestInput } from '../../src/model/request.js';
import { parseRequest } from '../../src/model/request.js';
import { CHANNEL_ASSERTION_TYPE } from '../../src/verify/channel-assertion.js';
import type { DecisionBinding } from '../../src/verify/decision-signature.js';
import { approverKeyId, decisionMessage } from '../../src/verify/decision-signature.js';
import { sha256Hex } from '../../src/verify/hash.js';
import { requestMessage } from '../../src/verify/request-signature.js';

/**
 * Proofs of identity made the way their holders make them: a person's Ed25519 key signs a
 * request or a decision, a Writ channel signs an assertion of a Slack click, and an identity
 * provider (a real HTTP server publishing its JWKS) issues a service's RS256 token.
 */
export type Ed25519Pair = { publicKey: KeyObject; privateKey: KeyObject };

export const ed25519 = (): Ed25519Pair => generateKeyPairSync('ed25519');

/** Base64 of the 32 raw bytes: how the directory lists an Ed25519 key. */
export const rawPublic = (key: KeyObject): string =>
  Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url').toString('base64');

/** A request signed by its requester: the operation id is chosen first, since the signature binds it. */
export function signedRequest(request: OperationRequestInput, key: Ed25519Pair): OperationRequestInput {
  const operationId = randomUUID();
  const parsed = parseRequest({ ...request, operationId });
  if (!parsed.ok) throw new Error(parsed.problem);
  const signature = sign(null, requestMessage({ ...parsed.request, operationId }), key.privateKey).toString('base64');
  return { ...request, operationId, identity: { kind: 'key', signature } };
}

export function decisionSignature(binding: DecisionBinding, key: Ed25519Pair): string {
  return sign(null, decisionMessage(binding), key.privateKey).toString('base64');
}

export interface ChannelDecision {
  channel: string;
  sub: string;
  operationId: string;
  digest: string;
  reason: string;
  decision?: 'approve' | 'reject';
}
export type SlackDecision = ChannelDecision & { team: string; user: string };

/** What `writ serve` signs after a verified Slack click (docs/FORMAT.md, "Channel assertions"). */
export function slackAssertion(key: Ed25519Pair, d: SlackDecision): Promise<string> {
  return channelAssertion(key, d, { channel: 'slack', slack: { team: d.team, user: d.user } });
}

/** What `writ serve` signs after a decision on its approval page, with the login's ID token. */
export function ssoAssertion(key: Ed25519Pair, d: ChannelDecision, idToken: string): Promise<string> {
  return channelAssertion(key, d, { channel: 'sso', id_token: idToken });
}

function channelAssertion(key: Ed25519Pair, d: ChannelDecision, how: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    ...how,
    decision: d.decision ?? 'approve',
    op: d.operationId,
    digest: d.digest,
    reason_sha256: sha256Hex(d.reason),
  })
    .setProtectedHeader({ alg: 'EdDSA', typ: CHANNEL_ASSERTION_TYPE, kid: approverKeyId(key.publicKey) })
    .setIssuer(d.channel)
    .setSubject(d.sub)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(key.privateKey);
}

export interface TestProvider {
  issuer: string;
  jwksUri: string;
  /** A token for `sub`, for audience `writ`: a service's client-credentials token, or a login's ID token. */
  token(sub: string, claims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** An identity provider on localhost that publishes one RS256 key and issues tokens with it. */
export async function startProvider(): Promise<TestProvider> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key-1', use: 'sig', alg: 'RS256' };
  const server = createServer((req, res) => {
    if (req.url !== '/jwks') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    token: (sub, claims = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience('writ')
        .setIssuedAt()
        .setExpirationTime('5m')
        .setJti(randomUUID())
        .sign(privateKey),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
