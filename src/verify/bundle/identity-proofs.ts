import { decodeJwt } from 'jose';
import type { ExpectedDecision, PinnedChannel } from '../channel-assertion.js';
import { checkChannelAssertion } from '../channel-assertion.js';
import { verifyDecisionSignature } from '../decision-signature.js';
import { sha256Hex } from '../hash.js';
import { checkProviderToken } from '../provider-token.js';
import type { RecordedRequestFields } from '../request-signature.js';
import { verifyRequestSignature } from '../request-signature.js';
import type { BundleFindingCode } from './findings.js';
import type { RecordedDirectories, RecordedDirectory } from './identity-directory.js';
import type { RecordedProviderKeys } from './identity-keys.js';

/**
 * One record's claim that a proof established who asked or decided, re-checked offline from the
 * proof material the record carries, the directory it names and the provider keys on record: the
 * same checks the worker made (src/identity/check-*.ts), never the worker's word for them.
 */
export interface ProofClaim {
  seq: number;
  /** When the record says it happened, in seconds: the moment a token or assertion had to be valid. */
  at: number;
  /** Who the record says it is: the requester or the decider (canonical). */
  who: string;
  /** The record's `identity`. */
  evidence: Record<string, unknown>;
  directoryVersion: unknown;
  /** A request's signed fields, or a decision's words. */
  subject: { request: RecordedRequestFields } | { decision: ExpectedDecision };
}

export interface ProofContext {
  directories: RecordedDirectories;
  providerKeys: RecordedProviderKeys;
  /** Channel keys the auditor pinned; absent: the recorded directory's channel keys are all there is. */
  pinnedChannels?: ReadonlyArray<{ keyId: string }>;
}

export type Recheck = { ok: true } | { ok: false; code: BundleFindingCode; problem: string };

const fail = (code: BundleFindingCode, problem: string): Recheck => ({ ok: false, code, problem });
const OK: Recheck = { ok: true };

/** The proof material a record's identity carries, by how the identity reached Writ. */
function materialOf(evidence: Record<string, unknown>): string | null {
  const field = { key: 'signature', token: 'token', sso: 'assertion', slack: 'assertion' }[String(evidence.channel)];
  const value = field ? evidence[field] : undefined;
  return typeof value === 'string' ? value : null;
}

/** Names the recorded fields that are not what re-checking the proof establishes. */
function mismatch(evidence: Record<string, unknown>, established: Record<string, unknown>): Recheck {
  const differ = Object.entries(established).filter(([name, value]) => evidence[name] !== value);
  if (!differ.length) return OK;
  const said = differ.map(
    ([name, value]) => `${name} ${JSON.stringify(evidence[name])} (the proof says ${JSON.stringify(value)})`,
  );
  return fail('IDENTITY_MISMATCH', `the record's identity does not say what its proof establishes: ${said.join(', ')}`);
}

export async function recheckProof(claim: ProofClaim, context: ProofContext): Promise<Recheck> {
  const { evidence } = claim;
  if (evidence.id !== claim.who)
    return fail(
      'IDENTITY_MISMATCH',
      `the identity recorded is ${JSON.stringify(evidence.id)}'s, the record names ${claim.who}`,
    );
  const material = materialOf(evidence);
  if (material === null)
    return fail(
      'IDENTITY_PROOF_MISSING',
      `verified by ${String(evidence.channel)}, but the record carries no proof to re-check`,
    );
  if (evidence.proofSha256 !== sha256Hex(material))
    return fail('IDENTITY_MISMATCH', "the recorded proofSha256 is not the SHA-256 of the record's proof");
  const directory = context.directories.get(claim.directoryVersion);
  if (typeof directory === 'string') return fail('IDENTITY_UNCHECKABLE', directory);
  if (evidence.channel === 'key') return recheckKey(claim, material, directory);
  if ('decision' in claim.subject) return recheckAssertion(claim, material, claim.subject.decision, directory, context);
  return recheckToken(claim, material, directory, context, 'the token');
}

function recheckKey(claim: ProofClaim, signature: string, directory: RecordedDirectory): Recheck {
  const person = directory.byId(claim.who);
  if (!person?.key) return fail('IDENTITY_PROOF_INVALID', `the recorded directory lists no key for ${claim.who}`);
  const { subject } = claim;
  const good =
    'request' in subject
      ? verifyRequestSignature(subject.request, signature, person.key)
      : verifyDecisionSignature(
          {
            kind: subject.decision.kind,
            operationId: subject.decision.operationId,
            digest: subject.decision.digest ?? '',
            ...(subject.decision.kind === 'resolve'
              ? { resolution: { action: subject.decision.action ?? '', reason: subject.decision.reason } }
              : {}),
          },
          signature,
          person.key,
        );
  if (!good)
    return fail(
      'IDENTITY_PROOF_INVALID',
      `the signature does not verify against ${claim.who}'s key in the recorded directory`,
    );
  return mismatch(claim.evidence, { keyId: person.keyId });
}

/** A provider's token (a request's, or the ID token under a single sign-on assertion), valid at `at`. */
async function recheckToken(
  claim: ProofClaim,
  token: string,
  directory: RecordedDirectory,
  context: ProofContext,
  what: string,
  at = claim.at,
): Promise<Recheck> {
  const lookup = context.providerKeys.lookupBefore(claim.seq);
  const checked = await checkProviderToken(token, directory.providers, lookup, { at });
  if (!checked.ok) {
    const unrecorded = checked.problem.startsWith('no key of');
    return fail(unrecorded ? 'IDENTITY_KEY_NOT_RECORDED' : 'IDENTITY_PROOF_INVALID', `${what}: ${checked.problem}`);
  }
  const person = directory.byLogin(checked.claims);
  if (person?.id !== claim.who)
    return fail(
      'IDENTITY_MISMATCH',
      `${what} is ${person?.id ?? 'nobody'}'s in the recorded directory, the record names ${claim.who}`,
    );
  return mismatch(claim.evidence, {
    issuer: checked.claims.iss,
    subject: checked.claims.sub,
    providerKey: checked.providerKey,
  });
}

async function recheckAssertion(
  claim: ProofClaim,
  assertion: string,
  expected: ExpectedDecision,
  directory: RecordedDirectory,
  context: ProofContext,
): Promise<Recheck> {
  const channels: PinnedChannel[] = directory.channels.filter(
    (channel) => !context.pinnedChannels || context.pinnedChannels.some((pinned) => pinned.keyId === channel.keyId),
  );
  const checked = await checkChannelAssertion(assertion, channels, expected, claim.at);
  if (!checked.ok) {
    const unpinned = context.pinnedChannels && checked.problem.startsWith('no pinned Writ channel');
    return unpinned
      ? fail(
          'CHANNEL_KEY_NOT_PINNED',
          `the channel assertion is signed by a key that is not a pinned Writ channel key: ${checked.problem}`,
        )
      : fail('IDENTITY_PROOF_INVALID', checked.problem);
  }
  const { claims, channel } = checked;
  const named = directory.byId(claims.sub);
  if (named?.id !== claim.who || claims.channel !== claim.evidence.channel)
    return fail(
      'IDENTITY_MISMATCH',
      `the assertion says ${claims.sub} by ${claims.channel}, the record ${claim.who} by ${String(claim.evidence.channel)}`,
    );
  const signed = mismatch(claim.evidence, { channelName: channel.name, keyId: channel.keyId, at: claims.iat });
  if (!signed.ok) return signed;
  if (claims.channel === 'slack') {
    const slack = claims.slack;
    if (!slack || !directory.slackTeams.includes(slack.team) || directory.bySlack(slack.team, slack.user) !== named)
      return fail(
        'IDENTITY_PROOF_INVALID',
        `the Slack user is not ${claim.who} in a pinned workspace of the recorded directory`,
      );
    const recorded = claim.evidence.slack as { team?: unknown; user?: unknown } | undefined;
    return recorded?.team === slack.team && recorded.user === slack.user
      ? OK
      : fail('IDENTITY_MISMATCH', "the recorded Slack user is not the assertion's");
  }
  if (!claims.id_token) return fail('IDENTITY_PROOF_INVALID', 'a single sign-on assertion without the login ID token');
  if (claim.evidence.token !== claims.id_token)
    return fail('IDENTITY_MISMATCH', 'the recorded ID token is not the one the assertion carries');
  // The login had to be valid when the channel says the decision was made, as the worker checked it.
  const login = await recheckToken(claim, claims.id_token, directory, context, 'the login ID token', claims.iat);
  if (!login.ok) return login;
  const authTime = decodeJwt(claims.id_token).auth_time;
  return mismatch(claim.evidence, { authTime: typeof authTime === 'number' ? authTime : undefined });
}
