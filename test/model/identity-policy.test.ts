import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PolicyInput } from '../../src/model/policy.js';
import { decidePolicy, policySchema } from '../../src/model/policy.js';
import { IRREVERSIBLE, REVERSIBLE, policy, request, subject } from './builders.js';

type RuleInput = NonNullable<PolicyInput['rules']>[number];
type Approvals = NonNullable<RuleInput['approvals']>;

function decideWith(identity: PolicyInput['identity'], ...approvals: Approvals[]) {
  const rules = approvals.map((asked, i) => ({ name: `rule-${i}`, approvals: asked }));
  return decidePolicy(policy({ id: 'finance', identity, rules }), 'rev-1', subject(request()), [REVERSIBLE]);
}

function problemsOf(input: unknown): string[] {
  const result = policySchema.safeParse(input);
  assert.equal(result.success, false, 'the policy was accepted');
  return result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe("a policy's identity section", () => {
  test('when it is left out, requests and decisions must both be verified', () => {
    assert.deepEqual(policySchema.parse({ id: 'p' }).identity, { requests: 'verified', decisions: 'verified' });
  });

  test('when it names only one of them, the other stays verified: opting out is one field at a time', () => {
    assert.deepEqual(policySchema.parse({ id: 'p', identity: { requests: 'asserted' } }).identity, {
      requests: 'asserted',
      decisions: 'verified',
    });
    assert.deepEqual(policySchema.parse({ id: 'p', identity: { decisions: 'asserted' } }).identity, {
      requests: 'verified',
      decisions: 'asserted',
    });
  });

  test('the explicit opt-out is kept as written', () => {
    const identity = { requests: 'asserted', decisions: 'asserted' } as const;
    assert.deepEqual(policySchema.parse({ id: 'p', identity }).identity, identity);
  });

  test('a requirement other than verified or asserted is refused, naming the field', () => {
    const [problem] = problemsOf({ id: 'p', identity: { decisions: 'trusted' } });
    assert.match(problem!, /^identity\.decisions: /);
  });

  test('an unknown key is refused rather than silently ignored, so a misspelt opt-out cannot pass for one', () => {
    const problems = problemsOf({ id: 'p', identity: { request: 'asserted' } });
    assert.ok(
      problems.some((problem) => /^identity: .*request/.test(problem)),
      problems.join('; '),
    );
  });

  test("the decision carries the policy's requirement for decisions", () => {
    assert.equal(decideWith(undefined).decisionIdentity, 'verified');
    assert.equal(decideWith({ requests: 'verified', decisions: 'asserted' }).decisionIdentity, 'asserted');
    assert.equal(decideWith({ requests: 'asserted', decisions: 'verified' }).decisionIdentity, 'verified');
  });
});

describe('single sign-on and a fresh login, across the rules that match', () => {
  test('when no rule asks for them, decisions need neither', () => {
    const decision = decideWith(undefined, { required: 1 }, { required: 2, signed: true });
    assert.equal(decision.ssoRequired, false);
    assert.equal(decision.loginWithinSeconds, null);
  });

  test('when one rule of several asks for single sign-on, every decision needs it', () => {
    const decision = decideWith(undefined, { required: 1 }, { required: 1, sso: true }, { required: 2 });
    assert.equal(decision.ssoRequired, true);
    assert.equal(decision.loginWithinSeconds, null);
  });

  test('a fresh login can only be proved by signing in, so asking for one asks for single sign-on too', () => {
    const decision = decideWith(undefined, { required: 1, loginWithinSeconds: 600 });
    assert.equal(decision.ssoRequired, true);
    assert.equal(decision.loginWithinSeconds, 600);
  });

  test('when rules ask for logins of different ages, the strictest wins, whatever the order', () => {
    const strict = { required: 1, loginWithinSeconds: 300 };
    const loose = { required: 1, loginWithinSeconds: 3600 };
    assert.equal(decideWith(undefined, loose, strict, { required: 1, sso: true }).loginWithinSeconds, 300);
    assert.equal(decideWith(undefined, strict, loose).loginWithinSeconds, 300);
  });

  test('the pivot section can ask for them as well', () => {
    const pivoting = policy({
      id: 'finance',
      pivot: { approvals: { required: 1, loginWithinSeconds: 120 } },
    });
    const decision = decidePolicy(pivoting, 'rev-1', subject(request()), [IRREVERSIBLE]);
    assert.equal(decision.ssoRequired, true);
    assert.equal(decision.loginWithinSeconds, 120);
  });

  test('a rule that asks for no approval asks nothing of decisions: there are none to prove', () => {
    const decision = decideWith(undefined, { required: 0, sso: true, loginWithinSeconds: 60 });
    assert.equal(decision.ssoRequired, false);
    assert.equal(decision.loginWithinSeconds, null);
  });

  test('a login freshness under 30 seconds or over a week is refused as a mistake', () => {
    for (const seconds of [0, 29, 7 * 24 * 3600 + 1, 1.5]) {
      const problems = problemsOf({
        id: 'p',
        rules: [{ name: 'r', approvals: { required: 1, loginWithinSeconds: seconds } }],
      });
      assert.ok(
        problems.some((problem) => problem.startsWith('rules.0.approvals.loginWithinSeconds')),
        `${seconds}: ${problems.join('; ')}`,
      );
    }
  });
});
