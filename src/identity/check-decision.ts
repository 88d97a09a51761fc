import type { IdentityCheck, IdentityProof } from '../model/identity-proof.js';
import { NO_PROOF, refusedProof } from '../model/identity-proof.js';
import type { ExpectedDecision } from '../verify/channel-assertion.js';
import { checkChannelAssertion } from '../verify/channel-assertion.js';
import { verifyDecisionSignature } from '../verify/decision-signature.js';
import { sha256Hex } from '../verify/hash.js';
import { checkProviderToken } from '../verify/provider-token.js';
import { loginName, personOfLogin } from './map-login.js';
import type { People } from './people.js';
import type { IdentityContext } from './service.js';

/**
 * Who really made a decision, from its proof. `claimed` is the id the decision names: a key is
 * looked up under it, and a channel's word must name that same person. The workflow judges the
 * rest (standing, digest, fresh login) from what this returns.
 */
export async function checkDecisionIdentity(
  proof: IdentityProof | undefined,
  claimed: string,
  expected: ExpectedDecision,
  context: IdentityContext,
): Promise<IdentityCheck> {
  if (!proof) return NO_PROOF;
  const { people } = await context.people();
  if (proof.kind === 'token')
    return refusedProof(
      'token',
      'a provider token alone does not say what was decided: decide with a key or through writ serve',
    );
  if (proof.kind === 'key') return keyDecision(people, proof.signature, claimed, expected);
  const check = await channelDecision(people, proof.assertion, expected, context);
  if (!check.verified) return check;
  const earlier = await context.consume(check.proofSha256!, { use: expected.kind, operationId: expected.operationId });
  if (earlier)
    return {
      ...check,
      verified: false,
      id: null,
      problem: `the assertion was already used (${earlier.use} of ${earlier.operationId}): it counts once`,
    };
  if (people.byId(claimed)?.id !== check.id)
    return {
      ...check,
      verified: false,
      id: null,
      problem: `the proof is ${check.id}'s, and the decision names ${claimed}`,
    };
  return check;
}

function keyDecision(people: People, signature: string, claimed: string, expected: ExpectedDecision): IdentityCheck {
  const base = { signature, proofSha256: sha256Hex(signature) };
  const person = people.byId(claimed);
  if (!person?.key) return refusedProof('key', `${claimed} has no key in the directory`, base);
  const binding = {
    kind: expected.kind,
    operationId: expected.operationId,
    digest: expected.digest ?? '',
    ...(expected.kind === 'resolve' ? { resolution: { action: expected.action ?? '', reason: expected.reason } } : {}),
  };
  if (!verifyDecisionSignature(binding, signature, person.key))
    return refusedProof('key', "the signature does not verify against the approver's key", {
      ...base,
      keyId: person.keyId!,
    });
  return { verified: true, id: person.id, channel: 'key', keyId: person.keyId!, ...base };
}

/** A channel's assertion, and under it the channel's own evidence: the provider's ID token, or the Slack user. */
async function channelDecision(
  people: People,
  assertion: string,
  expected: ExpectedDecision,
  context: IdentityContext,
): Promise<IdentityCheck> {
  const base = { assertion, proofSha256: sha256Hex(assertion) };
  const at = Math.floor(context.now().getTime() / 1000);
  const checked = await checkChannelAssertion(assertion, people.channels, expected, at);
  if (!checked.ok) return refusedProof('asserted', checked.problem, base);
  const { claims, channel } = checked;
  const named = people.byId(claims.sub);
  const signed = { ...base, channelName: channel.name, keyId: channel.keyId, at: claims.iat };
  if (!named)
    return refusedProof(claims.channel, `the channel names ${claims.sub}, who is nobody in the directory`, signed);
  if (claims.channel === 'slack') {
    const slack = claims.slack;
    if (!slack) return refusedProof('slack', 'a Slack decision must name the Slack team and user', signed);
    if (!people.slackTeams.includes(slack.team))
      return refusedProof('slack', `Slack workspace ${slack.team} is not pinned in the directory`, {
        ...signed,
        slack,
      });
    if (people.bySlack(slack.team, slack.user) !== named)
      return refusedProof('slack', `Slack user ${slack.user} is not ${named.id} in the directory`, {
        ...signed,
        slack,
      });
    return { verified: true, id: named.id, channel: 'slack', slack, ...signed };
  }
  if (!claims.id_token) return refusedProof('sso', 'a single sign-on decision must carry the login ID token', signed);
  // The login must have been valid when the decision was made, whenever the worker gets to it.
  const token = await checkProviderToken(claims.id_token, people.providers, context.providerKeys, { at: claims.iat });
  const withToken = { ...signed, token: claims.id_token };
  if (!token.ok) return refusedProof('sso', `the login: ${token.problem}`, withToken);
  const login = {
    issuer: token.claims.iss,
    subject: token.claims.sub,
    providerKey: token.providerKey,
    ...(typeof token.claims.auth_time === 'number' ? { authTime: token.claims.auth_time } : {}),
  };
  if (personOfLogin(people, token.claims) !== named)
    return refusedProof('sso', `the login's ${loginName(token.claims)} is not ${named.id} in the directory`, {
      ...withToken,
      ...login,
    });
  return { verified: true, id: named.id, channel: 'sso', ...withToken, ...login };
}
