import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { canonicalId, sameIdentity } from '../../src/model/identity.js';
import { judgeApproval, judgeResolution } from '../../src/model/approval.js';
import { decision } from './builders.js';

describe('canonicalId', () => {
  test('when an id differs only by case, width or surrounding space, it is the same person', () => {
    for (const spelling of ['bob', 'Bob ', ' BOB', 'Ｂｏｂ', 'ｂｏｂ\u3000', 'bob\u00a0'])
      assert.deepEqual(canonicalId(spelling), { ok: true, id: 'bob' }, JSON.stringify(spelling));
  });

  test('when an id holds an invisible or control character, it names no one', () => {
    for (const spelling of ['bo\u200bb', 'bob\u200d', '\u2066bob', 'bo\u0000b', 'bob\u3164', 'b\u2800ob', 'bo\nb']) {
      const canonical = canonicalId(spelling);
      assert.equal(canonical.ok, false, JSON.stringify(spelling));
    }
  });

  test('when an id is empty or only spaces, or spaces itself out, it names no one', () => {
    for (const spelling of ['', '   ', '\u3000', 'bob  smith'])
      assert.equal(canonicalId(spelling).ok, false, JSON.stringify(spelling));
  });

  test('canonicalising is idempotent, and two ids are the same person exactly when their canonical forms are equal', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 12 }),
        fc.string({ unit: 'grapheme', maxLength: 12 }),
        (a, b) => {
          const left = canonicalId(a);
          if (left.ok) assert.deepEqual(canonicalId(left.id), left);
          const right = canonicalId(b);
          assert.equal(sameIdentity(a, b), left.ok && right.ok && left.id === right.id);
        },
      ),
    );
  });
});

describe('when the requester approves under another spelling (pure rules)', () => {
  test('every spelling is refused as self-approval', () => {
    for (const spelling of ['Alice', 'ALICE ', 'Ａｌｉｃｅ']) {
      const verdict = judgeApproval(
        { approver: spelling, reason: 'me', digest: 'd' },
        { known: true, groups: ['sales-leads'], signatureValid: null },
        { decision: decision(), requester: 'alice', awaiting: true, currentDigest: 'd', granted: [] },
      );
      assert.deepEqual(verdict, { accepted: false, refusal: 'the requester cannot approve their own operation' });
    }
  });

  test('a second approval by the same person under another spelling is refused', () => {
    const verdict = judgeApproval(
      { approver: 'BOB', reason: 'again', digest: 'd' },
      { known: true, groups: ['sales-leads'], signatureValid: null },
      {
        decision: decision({ approvalsRequired: 2 }),
        requester: 'alice',
        awaiting: true,
        currentDigest: 'd',
        granted: [{ approver: 'bob', reason: 'ok', digest: 'd', signed: false, at: '2025-01-01T00:00:00.000Z' }],
      },
    );
    assert.deepEqual(verdict, { accepted: false, refusal: 'approver bob has already approved' });
  });
});

describe('judgeResolution', () => {
  const open = {
    decision: decision({ approverGroups: ['sales-leads'] }),
    needsIntervention: true,
    alreadyResolved: false,
    state: 'needs_intervention',
    currentDigest: 'd',
  };
  const input = { by: 'Dana', action: 'fixed by hand', reason: 'rollback refused' };

  test('when the resolver is not in the directory, it is refused', () => {
    assert.deepEqual(judgeResolution(input, { known: false, groups: [], signatureValid: null }, open), {
      accepted: false,
      refusal: 'resolver dana is not in the approver directory',
    });
  });

  test('when the directory names resolver groups, only their members may resolve', () => {
    assert.match(
      (
        judgeResolution(
          input,
          { known: true, groups: ['sales-leads'], signatureValid: null, resolverGroups: ['oncall'] },
          open,
        ) as { refusal: string }
      ).refusal,
      /none of the groups that may resolve \(oncall\)/,
    );
    assert.deepEqual(
      judgeResolution(
        input,
        { known: true, groups: ['oncall'], signatureValid: null, resolverGroups: ['oncall'] },
        open,
      ),
      { accepted: true },
    );
  });

  test("without resolver groups, the operation's approver groups have standing", () => {
    assert.deepEqual(judgeResolution(input, { known: true, groups: ['sales-leads'], signatureValid: null }, open), {
      accepted: true,
    });
    assert.equal(
      judgeResolution(input, { known: true, groups: ['interns'], signatureValid: null }, open).accepted,
      false,
    );
  });

  test('where policy requires signed approvals, an unsigned or unverified resolution is refused', () => {
    const signed = { ...open, decision: decision({ approverGroups: ['sales-leads'], signedApprovals: true }) };
    assert.match(
      (
        judgeResolution(input, { known: true, groups: ['sales-leads'], signatureValid: null }, signed) as {
          refusal: string;
        }
      ).refusal,
      /requires a signed resolution/,
    );
    assert.match(
      (
        judgeResolution(
          { ...input, digest: 'd', signature: 'c2ln' },
          { known: true, groups: ['sales-leads'], signatureValid: false },
          signed,
        ) as { refusal: string }
      ).refusal,
      /does not verify/,
    );
    assert.deepEqual(
      judgeResolution(
        { ...input, digest: 'd', signature: 'c2ln' },
        { known: true, groups: ['sales-leads'], signatureValid: true },
        signed,
      ),
      { accepted: true },
    );
  });

  test('when the operation does not need intervention or was resolved, it is refused', () => {
    assert.equal(
      judgeResolution(
        input,
        { known: true, groups: ['sales-leads'], signatureValid: null },
        { ...open, needsIntervention: false, state: 'executing' },
      ).accepted,
      false,
    );
    assert.equal(
      judgeResolution(
        input,
        { known: true, groups: ['sales-leads'], signatureValid: null },
        { ...open, alreadyResolved: true },
      ).accepted,
      false,
    );
  });
});
