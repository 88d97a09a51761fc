import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type {
  ApprovalAttempt,
  ApprovalContext,
  ApprovalVerdict,
  ApproverFacts,
  GrantedApproval,
} from '../../src/model/approval.js';
import { judgeApproval, judgeRejection, quorumReached } from '../../src/model/approval.js';
import { decision } from './builders.js';

const CURRENT = 'sha256:current-digest';

function context(overrides: Partial<ApprovalContext> = {}): ApprovalContext {
  return {
    decision: decision(),
    requester: 'alice',
    awaiting: true,
    currentDigest: CURRENT,
    granted: [],
    ...overrides,
  };
}

function attempt(overrides: Partial<ApprovalAttempt> = {}): ApprovalAttempt {
  return { approver: 'bob', reason: 'checked the renewal contract', digest: CURRENT, ...overrides };
}

function facts(overrides: Partial<ApproverFacts> = {}): ApproverFacts {
  return { known: true, groups: ['sales-leads'], signatureValid: null, ...overrides };
}

function granted(approver: string): GrantedApproval {
  return { approver, reason: 'ok', digest: CURRENT, signed: false, at: '2025-01-01T00:00:00.000Z' };
}

function refusalOf(verdict: ApprovalVerdict): string {
  assert.equal(verdict.accepted, false, 'expected a refusal, got an acceptance');
  return (verdict as { refusal: string }).refusal;
}

const SIGNED = decision({ signedApprovals: true });

describe('judgeApproval', () => {
  describe('when a known approver in an allowed group approves the current digest', () => {
    test('the approval is accepted', () => {
      assert.deepEqual(judgeApproval(attempt(), facts(), context()), { accepted: true });
    });
  });

  describe('when the operation is not awaiting approval', () => {
    test('the approval is refused', () => {
      assert.equal(
        refusalOf(judgeApproval(attempt(), facts(), context({ awaiting: false }))),
        'the operation is not awaiting approval',
      );
    });
  });

  describe('when the approver is the requester', () => {
    test('the approval is refused', () => {
      const verdict = judgeApproval(attempt({ approver: 'alice' }), facts(), context());
      assert.equal(refusalOf(verdict), 'the requester cannot approve their own operation');
    });

    test('it is refused even when the requester is a known approver of an allowed group with a valid signature', () => {
      const verdict = judgeApproval(
        attempt({ approver: 'alice', signature: 'c2ln' }),
        facts({ signatureValid: true }),
        context({ decision: SIGNED }),
      );
      assert.equal(refusalOf(verdict), 'the requester cannot approve their own operation');
    });
  });

  describe('when the approver is not in the approver directory', () => {
    test('the approval is refused, naming the approver', () => {
      const refusal = refusalOf(judgeApproval(attempt(), facts({ known: false }), context()));
      assert.equal(refusal, 'approver bob is not in the approver directory');
    });
  });

  describe('when the approver is in none of the allowed groups', () => {
    test('the approval is refused, naming the approver and the allowed groups', () => {
      const ctx = context({ decision: decision({ approverGroups: ['sales-leads', 'finance'] }) });
      const refusal = refusalOf(judgeApproval(attempt(), facts({ groups: ['interns'] }), ctx));
      assert.equal(refusal, 'approver bob is in none of the allowed groups (sales-leads, finance)');
    });

    test('an approver in no group at all is refused too', () => {
      assert.match(refusalOf(judgeApproval(attempt(), facts({ groups: [] }), context())), /none of the allowed groups/);
    });
  });

  describe("when one of the approver's groups is allowed", () => {
    test('the approval is accepted', () => {
      assert.deepEqual(judgeApproval(attempt(), facts({ groups: ['interns', 'sales-leads'] }), context()), {
        accepted: true,
      });
    });
  });

  describe('when the policy names no approver groups', () => {
    test('any known approver may approve, whatever their groups', () => {
      const ctx = context({ decision: decision({ approverGroups: [] }) });
      assert.deepEqual(judgeApproval(attempt(), facts({ groups: [] }), ctx), { accepted: true });
      assert.deepEqual(judgeApproval(attempt(), facts({ groups: ['interns'] }), ctx), { accepted: true });
    });
  });

  describe('when the approver was shown another digest', () => {
    test('the approval is refused as stale', () => {
      const refusal = refusalOf(judgeApproval(attempt({ digest: 'sha256:old-digest' }), facts(), context()));
      assert.ok(refusal.startsWith('stale digest'), refusal);
    });

    test('an empty digest is stale too', () => {
      assert.ok(refusalOf(judgeApproval(attempt({ digest: '' }), facts(), context())).startsWith('stale digest'));
    });
  });

  describe('when the policy requires signed approvals', () => {
    test('an approval without a signature is refused', () => {
      const refusal = refusalOf(judgeApproval(attempt(), facts(), context({ decision: SIGNED })));
      assert.equal(refusal, 'policy requires a signed approval and none was given');
    });

    test('an approval with an empty signature counts as unsigned', () => {
      const refusal = refusalOf(
        judgeApproval(attempt({ signature: '' }), facts({ signatureValid: true }), context({ decision: SIGNED })),
      );
      assert.equal(refusal, 'policy requires a signed approval and none was given');
    });

    test('an approval whose signature does not verify is refused', () => {
      const refusal = refusalOf(
        judgeApproval(attempt({ signature: 'YmFk' }), facts({ signatureValid: false }), context({ decision: SIGNED })),
      );
      assert.equal(refusal, "the signature does not verify against the approver's key");
    });

    test('an approval whose signature could not be checked (no key on file) is refused', () => {
      const refusal = refusalOf(
        judgeApproval(attempt({ signature: 'YmFk' }), facts({ signatureValid: null }), context({ decision: SIGNED })),
      );
      assert.equal(refusal, "the signature does not verify against the approver's key");
    });

    test('an approval with a verified signature is accepted', () => {
      assert.deepEqual(
        judgeApproval(
          attempt({ signature: 'Z29vZA==' }),
          facts({ signatureValid: true }),
          context({ decision: SIGNED }),
        ),
        { accepted: true },
      );
    });
  });

  describe('when the policy does not require signed approvals', () => {
    test('an approval carrying a signature that does not verify is refused all the same (its evidence would be false)', () => {
      assert.match(
        refusalOf(judgeApproval(attempt({ signature: 'c2ln' }), facts({ signatureValid: false }), context())),
        /does not verify/,
      );
    });

    test('an unsigned approval is accepted', () => {
      assert.deepEqual(judgeApproval(attempt(), facts({ signatureValid: null }), context()), { accepted: true });
    });
  });

  describe('when the approver has already approved', () => {
    test('a second approval is refused, naming the approver', () => {
      const refusal = refusalOf(judgeApproval(attempt(), facts(), context({ granted: [granted('bob')] })));
      assert.equal(refusal, 'approver bob has already approved');
    });

    test('another approver is still accepted', () => {
      assert.deepEqual(judgeApproval(attempt({ approver: 'carol' }), facts(), context({ granted: [granted('bob')] })), {
        accepted: true,
      });
    });
  });

  describe('when several things are wrong at once', () => {
    const examples: Array<[string, ApprovalAttempt, ApproverFacts, ApprovalContext, RegExp]> = [
      [
        'not awaiting beats the requester approving',
        attempt({ approver: 'alice' }),
        facts(),
        context({ awaiting: false }),
        /not awaiting approval/,
      ],
      [
        'the requester approving beats an unknown approver',
        attempt({ approver: 'alice' }),
        facts({ known: false }),
        context(),
        /requester cannot approve/,
      ],
      [
        'an unknown approver beats a wrong group',
        attempt(),
        facts({ known: false, groups: [] }),
        context(),
        /not in the approver directory/,
      ],
      [
        'a wrong group beats a stale digest',
        attempt({ digest: 'old' }),
        facts({ groups: ['interns'] }),
        context(),
        /none of the allowed groups/,
      ],
      [
        'a stale digest beats a missing signature',
        attempt({ digest: 'old' }),
        facts(),
        context({ decision: SIGNED }),
        /^stale digest/,
      ],
      [
        'a missing signature beats a repeat approval',
        attempt(),
        facts(),
        context({ decision: SIGNED, granted: [granted('bob')] }),
        /none was given/,
      ],
      [
        'a bad signature beats a repeat approval',
        attempt({ signature: 'x' }),
        facts({ signatureValid: false }),
        context({ decision: SIGNED, granted: [granted('bob')] }),
        /does not verify/,
      ],
      [
        'a stale digest beats a repeat approval',
        attempt({ digest: 'old' }),
        facts(),
        context({ granted: [granted('bob')] }),
        /^stale digest/,
      ],
    ];
    for (const [what, a, f, c, expected] of examples) {
      test(`${what}`, () => {
        assert.match(refusalOf(judgeApproval(a, f, c)), expected);
      });
    }

    test('the first broken rule in the documented order is always the one reported', () => {
      const order = [
        'notAwaiting',
        'requester',
        'unknown',
        'outsideGroups',
        'stale',
        'unsigned',
        'badSignature',
        'repeat',
      ] as const;
      const messages: Record<(typeof order)[number], RegExp> = {
        notAwaiting: /^the operation is not awaiting approval$/,
        requester: /^the requester cannot approve their own operation$/,
        unknown: /^approver bob is not in the approver directory$/,
        outsideGroups: /^approver bob is in none of the allowed groups \(sales-leads\)$/,
        stale: /^stale digest/,
        unsigned: /^policy requires a signed approval and none was given$/,
        badSignature: /^the signature does not verify/,
        repeat: /^approver bob has already approved$/,
      };
      fc.assert(
        fc.property(
          fc.record({
            notAwaiting: fc.boolean(),
            requester: fc.boolean(),
            unknown: fc.boolean(),
            outsideGroups: fc.boolean(),
            stale: fc.boolean(),
            signedRequired: fc.boolean(),
            signature: fc.constantFrom<string | undefined>(undefined, '', 'c2ln'),
            signatureValid: fc.constantFrom<boolean | null>(true, false, null),
            repeat: fc.boolean(),
          }),
          (faults) => {
            const approver = faults.requester ? 'alice' : 'bob';
            const verdict = judgeApproval(
              {
                approver,
                reason: 'r',
                digest: faults.stale ? 'old' : CURRENT,
                ...(faults.signature === undefined ? {} : { signature: faults.signature }),
              },
              {
                known: !faults.unknown,
                groups: faults.outsideGroups ? ['interns'] : ['sales-leads'],
                signatureValid: faults.signatureValid,
              },
              context({
                awaiting: !faults.notAwaiting,
                decision: decision({ signedApprovals: faults.signedRequired }),
                granted: faults.repeat ? [granted(approver)] : [granted('dave')],
              }),
            );
            const broken = {
              notAwaiting: faults.notAwaiting,
              requester: faults.requester,
              unknown: faults.unknown,
              outsideGroups: faults.outsideGroups,
              stale: faults.stale,
              unsigned: faults.signedRequired && !faults.signature,
              // A signature given must verify, required or not.
              badSignature: !!faults.signature && faults.signatureValid !== true,
              repeat: faults.repeat,
            };
            const first = order.find((rule) => broken[rule]);
            if (first === undefined) {
              assert.deepEqual(verdict, { accepted: true });
            } else {
              // Messages name bob: whenever the approver is alice (the requester), that refusal comes first.
              assert.match(refusalOf(verdict), messages[first]);
            }
          },
        ),
        { numRuns: 2000 },
      );
    });
  });
});

describe('judgeRejection', () => {
  describe('when the requester withdraws their own request', () => {
    test('the rejection is accepted', () => {
      assert.deepEqual(judgeRejection({ approver: 'alice', reason: 'no longer needed' }, facts(), context()), {
        accepted: true,
      });
    });

    test('it is accepted when the requester is in the directory, even in none of the allowed groups', () => {
      assert.deepEqual(judgeRejection({ approver: 'alice', reason: 'withdrawn' }, facts({ groups: [] }), context()), {
        accepted: true,
      });
    });

    test('it is refused when the requester is not in the approver directory: claiming to be the requester is not standing', () => {
      assert.equal(
        refusalOf(
          judgeRejection({ approver: 'alice', reason: 'withdrawn' }, facts({ known: false, groups: [] }), context()),
        ),
        'the requester alice may withdraw only as a person in the approver directory, and is not in it',
      );
    });

    test('where policy requires signed approvals, an unsigned withdrawal is refused', () => {
      assert.match(
        refusalOf(judgeRejection({ approver: 'alice', reason: 'withdrawn' }, facts(), context({ decision: SIGNED }))),
        /requires a signed rejection/,
      );
    });

    test('it is refused once the operation is no longer awaiting approval', () => {
      assert.equal(
        refusalOf(judgeRejection({ approver: 'alice', reason: 'too late' }, facts(), context({ awaiting: false }))),
        'the operation is not awaiting approval',
      );
    });
  });

  describe('when a known approver in an allowed group rejects', () => {
    test('the rejection is accepted without any digest', () => {
      assert.deepEqual(judgeRejection({ approver: 'bob', reason: 'wrong account' }, facts(), context()), {
        accepted: true,
      });
    });

    test('the rejection is accepted with a stale digest', () => {
      assert.deepEqual(
        judgeRejection({ approver: 'bob', reason: 'wrong account', digest: 'old' }, facts(), context()),
        { accepted: true },
      );
    });
  });

  describe('when someone other than the requester is not in the approver directory', () => {
    test('the rejection is refused, naming them', () => {
      assert.equal(
        refusalOf(judgeRejection({ approver: 'mallory', reason: 'no' }, facts({ known: false }), context())),
        'approver mallory is not in the approver directory',
      );
    });
  });

  describe('when someone other than the requester is in none of the allowed groups', () => {
    test('the rejection is refused, naming them and the groups', () => {
      const refusal = refusalOf(
        judgeRejection({ approver: 'mallory', reason: 'no' }, facts({ groups: ['interns'] }), context()),
      );
      assert.equal(refusal, 'approver mallory is in none of the allowed groups (sales-leads)');
    });
  });

  describe('when the policy names no approver groups', () => {
    test('any known approver may reject', () => {
      assert.deepEqual(
        judgeRejection(
          { approver: 'bob', reason: 'no' },
          facts({ groups: [] }),
          context({ decision: decision({ approverGroups: [] }) }),
        ),
        { accepted: true },
      );
    });
  });

  describe('when the operation is not awaiting approval', () => {
    test('a rejection by an approver is refused', () => {
      assert.equal(
        refusalOf(judgeRejection({ approver: 'bob', reason: 'no' }, facts(), context({ awaiting: false }))),
        'the operation is not awaiting approval',
      );
    });
  });
});

describe('quorumReached', () => {
  test('is not reached with fewer distinct approvers than required', () => {
    assert.equal(quorumReached(decision({ approvalsRequired: 2 }), []), false);
    assert.equal(quorumReached(decision({ approvalsRequired: 2 }), [granted('bob')]), false);
  });

  test('is reached with as many distinct approvers as required, or more', () => {
    assert.equal(quorumReached(decision({ approvalsRequired: 2 }), [granted('bob'), granted('carol')]), true);
    assert.equal(
      quorumReached(decision({ approvalsRequired: 2 }), [granted('bob'), granted('carol'), granted('dave')]),
      true,
    );
  });

  test('counts the same approver only once', () => {
    assert.equal(quorumReached(decision({ approvalsRequired: 2 }), [granted('bob'), granted('bob')]), false);
    assert.equal(
      quorumReached(decision({ approvalsRequired: 3 }), [
        granted('bob'),
        granted('carol'),
        granted('bob'),
        granted('carol'),
      ]),
      false,
    );
  });

  test('is reached at once when no approval is required', () => {
    assert.equal(quorumReached(decision({ approvalsRequired: 0 }), []), true);
  });

  test('for any list of approvals, it is reached exactly when the distinct approvers reach the requirement', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.array(fc.constantFrom('bob', 'carol', 'dave', 'erin', 'frank'), { maxLength: 15 }),
        (required, approvers) => {
          assert.equal(
            quorumReached(decision({ approvalsRequired: required }), approvers.map(granted)),
            new Set(approvers).size >= required,
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
