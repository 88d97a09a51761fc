import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApprovalVerdict, ApproverFacts } from '../../src/model/approval.js';
import { judgeApproval, judgeRejection, judgeResolution } from '../../src/model/approval.js';
import type { IdentityCheck } from '../../src/model/identity-proof.js';
import type { PolicyDecision } from '../../src/model/policy.js';
import { decision } from './builders.js';

/**
 * What policy asks of a decider's identity, judged the same way for approvals, rejections and
 * resolutions: the checks below run against all three, so none of them is the one way around it.
 */
const DIGEST = 'a'.repeat(64);
const NOW = 1_900_000_000;

type Judge = (facts: ApproverFacts, policyDecision: PolicyDecision) => ApprovalVerdict;

const JUDGES: Record<string, Judge> = {
  approval: (facts, policyDecision) =>
    judgeApproval({ approver: 'bob', reason: 'checked', digest: DIGEST }, facts, {
      decision: policyDecision,
      requester: 'alice',
      awaiting: true,
      currentDigest: DIGEST,
      granted: [],
    }),
  rejection: (facts, policyDecision) =>
    judgeRejection({ approver: 'bob', reason: 'not now' }, facts, {
      decision: policyDecision,
      requester: 'alice',
      awaiting: true,
      currentDigest: DIGEST,
      granted: [],
    }),
  resolution: (facts, policyDecision) =>
    judgeResolution({ by: 'bob', action: 'restored the row by hand', reason: 'rollback refused' }, facts, {
      decision: policyDecision,
      needsIntervention: true,
      alreadyResolved: false,
      state: 'needs_intervention',
      currentDigest: DIGEST,
    }),
};

const VERIFIED = decision({ decisionIdentity: 'verified' });
const ASSERTED = decision({ decisionIdentity: 'asserted' });
const SSO = decision({ decisionIdentity: 'verified', ssoRequired: true });
const FRESH = decision({ decisionIdentity: 'verified', ssoRequired: true, loginWithinSeconds: 300 });

function proved(identity: IdentityCheck | undefined): ApproverFacts {
  return { known: true, groups: ['sales-leads'], signatureValid: null, ...(identity ? { identity } : {}) };
}

const bobBy = (channel: IdentityCheck['channel'], extra: Partial<IdentityCheck> = {}): IdentityCheck => ({
  verified: true,
  id: 'bob',
  channel,
  at: NOW,
  ...extra,
});

const NOTHING_PROVED: IdentityCheck = { verified: false, id: null, channel: 'asserted' };

function refusalOf(verdict: ApprovalVerdict): string {
  assert.equal(verdict.accepted, false, 'expected a refusal, got an acceptance');
  return (verdict as { refusal: string }).refusal;
}

for (const [what, judge] of Object.entries(JUDGES)) {
  describe(`a ${what}, judged on its proof of identity`, () => {
    test('with no proof, under a policy that wants verified decisions, is refused and says how to prove it', () => {
      for (const facts of [proved(undefined), proved(NOTHING_PROVED)])
        assert.match(
          refusalOf(judge(facts, VERIFIED)),
          /^policy requires a verified identity for decisions, and this one proves none: .*writ serve/,
        );
    });

    test('with no proof, under a policy that opts out explicitly, is accepted by name', () => {
      assert.deepEqual(judge(proved(NOTHING_PROVED), ASSERTED), { accepted: true });
      assert.deepEqual(judge(proved(undefined), ASSERTED), { accepted: true });
    });

    test('with a proof that failed, is refused even where identities may be asserted', () => {
      const failed: IdentityCheck = { ...NOTHING_PROVED, channel: 'token', problem: 'the token has expired' };
      for (const policyDecision of [VERIFIED, ASSERTED])
        assert.equal(
          refusalOf(judge(proved(failed), policyDecision)),
          'the proof of identity is refused: the token has expired',
        );
    });

    test("with carol's verified proof on a decision that names bob, is refused, under either policy", () => {
      const carols = bobBy('key', { id: 'carol' });
      for (const policyDecision of [VERIFIED, ASSERTED])
        assert.equal(
          refusalOf(judge(proved(carols), policyDecision)),
          "the proof is carol's, and the decision names bob",
        );
    });

    test("with bob's own verified proof by key, is accepted where single sign-on is not required", () => {
      assert.deepEqual(judge(proved(bobBy('key')), VERIFIED), { accepted: true });
    });

    test('where single sign-on is required, a verified key or Slack proof is refused, naming the channel', () => {
      for (const channel of ['key', 'slack', 'token'] as const)
        assert.equal(
          refusalOf(judge(proved(bobBy(channel)), SSO)),
          `policy requires single sign-on for this decision, and it came by ${channel}`,
        );
    });

    test('where single sign-on is required, no proof is refused even under an asserted policy', () => {
      const assertedButSso = decision({ decisionIdentity: 'asserted', ssoRequired: true });
      assert.equal(
        refusalOf(judge(proved(NOTHING_PROVED), assertedButSso)),
        'policy requires this decision to come through single sign-on (writ serve)',
      );
    });

    test('where a fresh login is required, a login older than allowed is refused, saying how old it was', () => {
      const stale = bobBy('sso', { authTime: NOW - 301 });
      assert.equal(
        refusalOf(judge(proved(stale), FRESH)),
        'policy requires a login at most 300 s old, and this one was 301 s old',
      );
    });

    test('where a fresh login is required, a login that does not say when it was is refused', () => {
      assert.match(refusalOf(judge(proved(bobBy('sso')), FRESH)), /did not say when the login was \(auth_time\)/);
    });

    test('where a fresh login is required, a login within the limit is accepted, up to the limit itself', () => {
      assert.deepEqual(judge(proved(bobBy('sso', { authTime: NOW - 60 })), FRESH), { accepted: true });
      assert.deepEqual(judge(proved(bobBy('sso', { authTime: NOW - 300 })), FRESH), { accepted: true });
    });

    test('a verified identity does not stand in for the directory: an unknown person is still refused', () => {
      const unknown = { ...proved(bobBy('sso', { authTime: NOW })), known: false };
      assert.match(refusalOf(judge(unknown, FRESH)), /not in the approver directory/);
    });
  });
}
