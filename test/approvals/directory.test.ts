import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { approverDirectory } from '../../src/approvals/directory.js';
import { decisionMessage } from '../../src/verify/decision-signature.js';
import { pinnedApproverKeys } from '../../src/verify/bundle/decisions.js';

const bob = generateKeyPairSync('ed25519');
const publicKey = Buffer.from(bob.publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
const DIGEST = 'ab'.repeat(32);

describe('the approver directory', () => {
  test('when an entry is spelled "Bob", any spelling of bob finds it, and nothing else does', async () => {
    const directory = approverDirectory({ approvers: [{ id: ' Bob', groups: ['managers'] }] });
    for (const spelling of ['bob', 'BOB ', 'Ｂｏｂ'])
      assert.equal((await directory.facts(spelling, DIGEST, undefined)).known, true, spelling);
    for (const spelling of ['bo\u200bb', 'rob', ''])
      assert.equal((await directory.facts(spelling, DIGEST, undefined)).known, false, spelling);
  });

  test('when two entries are one person under different spellings, the directory is refused', () => {
    assert.throws(() => approverDirectory({ approvers: [{ id: 'bob' }, { id: 'BOB' }] }), /names bob a second time/);
    assert.throws(() => approverDirectory({ approvers: [{ id: 'b\u200bob' }] }), /not a usable id/);
  });

  test('a signature verifies only over the message of its own kind and operation', async () => {
    const directory = approverDirectory({ approvers: [{ id: 'bob', publicKey }] });
    const signature = sign(
      null,
      decisionMessage({ kind: 'approve', operationId: 'op-1', digest: DIGEST }),
      bob.privateKey,
    ).toString('base64');
    const facts = await directory.facts('bob', DIGEST, signature, { kind: 'approve', operationId: 'op-1' });
    assert.equal(facts.signatureValid, true);
    assert.match(facts.keyId!, /^[0-9a-f]{64}$/);
    assert.equal(
      (await directory.facts('bob', DIGEST, signature, { kind: 'reject', operationId: 'op-1' })).signatureValid,
      false,
    );
    assert.equal(
      (await directory.facts('bob', DIGEST, signature, { kind: 'approve', operationId: 'op-2' })).signatureValid,
      false,
    );
    assert.equal(
      (await directory.facts('bob', DIGEST, signature)).signatureValid,
      false,
      'no binding: nothing to verify against',
    );
  });

  test('pinned approver keys are read from a directory file and keyed by canonical id', () => {
    const keys = pinnedApproverKeys({ approvers: [{ id: 'Bob', publicKey }, { id: 'carol' }], version: 7 });
    assert.equal(keys.byApprover.get('bob')?.length, 1);
    assert.equal(keys.byApprover.has('carol'), false);
    assert.throws(() => pinnedApproverKeys({ keys: [] }), /must be an approver directory/);
  });
});
