import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signDecision } from '../../src/approvals/sign.js';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { withHooks } from '../support/hooked-connector.js';
import { ed25519, rawPublic } from '../support/identity.js';
import type { WritHarness } from '../support/writ.js';
import { ledgerEvents, startWrit, updateTier, waitFor, waitForState } from '../support/writ.js';

/**
 * Anyone who can reach Temporal can send an approval naming anyone. Under the default policy a
 * decision counts only with a proof of who made it; here the proof is the decider's Ed25519
 * signature over the decision (kind, operation, digest), and each attack is sent as such a
 * Temporal client would send it: by update and by signal, with real signatures made for
 * something else.
 */

const keys = { alice: ed25519(), bob: ed25519(), carol: ed25519() };
const dana = ed25519();
const directory = {
  approvers: [
    { id: 'alice', groups: ['managers'], publicKey: rawPublic(keys.alice.publicKey) },
    { id: 'bob', groups: ['managers'], publicKey: rawPublic(keys.bob.publicKey) },
    { id: 'carol', groups: ['managers'], publicKey: rawPublic(keys.carol.publicKey) },
  ],
};
const policy = {
  id: 'proved-decisions',
  rules: [
    {
      name: 'tier-changes-need-a-manager',
      match: { connector: 'postgres', action: 'update', target: 'public.accounts/*' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], windowMs: 60_000 },
    },
  ],
};

/** An operation alice asked for (proved with her key), waiting for a manager; and its digest. */
async function awaiting(harness: WritHarness): Promise<{ operationId: string; digest: string }> {
  const { operationId } = await harness.writ.start(updateTier(), { identity: { key: keys.alice.privateKey } });
  await waitForState(harness.writ, operationId, 'awaiting_approval');
  return { operationId, digest: (await harness.writ.state(operationId)).approvals.digest! };
}

const approvalBy = (who: keyof typeof keys, operationId: string, digest: string) =>
  signDecision({ kind: 'approve', operationId, digest }, keys[who].privateKey);

async function refusals(harness: WritHarness, operationId: string, count: number) {
  await waitFor(`${count} refused approvals of ${operationId}`, async () => {
    const events = await ledgerEvents(harness.ledger, operationId);
    return events.filter((event) => event.type === 'approval.refused').length >= count;
  });
  return (await ledgerEvents(harness.ledger, operationId)).filter((event) => event.type === 'approval.refused');
}

describe('when an approval comes with no proof of identity', () => {
  test('by update or by signal it is refused and recorded; bob’s key-signed approval then counts as channel key', async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const { operationId, digest } = await awaiting(harness);
    const answer = await harness.writ.approve(operationId, { approver: 'bob', reason: 'trust me', digest });
    assert.equal(answer.accepted, false);
    assert.equal(
      answer.refusal,
      'policy requires a verified identity for decisions, and this one proves none: decide through writ serve (single sign-on), Slack, or with your key (writ approve --key)',
    );
    await harness.writ.handle(operationId).signal('approve', { approver: 'bob', reason: 'by signal', digest });
    const refused = await refusals(harness, operationId, 2);
    for (const record of refused) {
      assert.equal(record.payload.identityVerified, false);
      assert.deepEqual(record.payload.identity, { verified: false, id: null, channel: 'asserted' });
    }
    assert.equal((await harness.writ.state(operationId)).state, 'awaiting_approval');

    const signature = approvalBy('bob', operationId, digest);
    const granted = await harness.writ.approve(operationId, {
      approver: 'bob',
      reason: 'checked the renewal',
      digest,
      proof: { kind: 'key', signature },
    });
    assert.equal(granted.accepted, true, granted.refusal);
    assert.equal((await harness.writ.result(operationId)).outcome, 'succeeded');
    const record = (await ledgerEvents(harness.ledger, operationId)).find((e) => e.type === 'approval.granted')!;
    const identity = record.payload.identity as Record<string, unknown>;
    assert.equal(identity.verified, true);
    assert.equal(identity.channel, 'key');
    assert.equal(identity.id, 'bob');
    assert.equal(record.payload.identityVerified, true);
    assert.equal((await harness.writ.state(operationId)).approvals.granted[0]?.channel, 'key');
  });
});

describe('when a real signature is used for a decision it was not made for', () => {
  test('a signature for another operation, another digest or a rejection is refused and recorded', async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const first = await awaiting(harness);
    const second = await awaiting(harness);
    const forFirst = approvalBy('bob', first.operationId, first.digest);
    const rejection = signDecision(
      { kind: 'reject', operationId: second.operationId, digest: second.digest },
      keys.bob.privateKey,
    );
    const elsewhere = [
      ['another operation', forFirst],
      ['another digest', approvalBy('bob', second.operationId, 'ab'.repeat(32))],
      ['a rejection', rejection],
    ] as const;
    for (const [what, signature] of elsewhere) {
      const answer = await harness.writ.approve(second.operationId, {
        approver: 'bob',
        reason: 'replayed',
        digest: second.digest,
        proof: { kind: 'key', signature },
      });
      assert.equal(answer.accepted, false, what);
      assert.equal(
        answer.refusal,
        "the proof of identity is refused: the signature does not verify against the approver's key",
        what,
      );
    }
    const refused = await refusals(harness, second.operationId, elsewhere.length);
    assert.ok(refused.every((record) => (record.payload.identity as { channel: string }).channel === 'key'));
    assert.equal((await harness.writ.state(second.operationId)).state, 'awaiting_approval');
  });

  test('bob’s valid signature on an approval naming carol is refused: a key proves only its owner', async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const { operationId, digest } = await awaiting(harness);
    const answer = await harness.writ.approve(operationId, {
      approver: 'carol',
      reason: 'carol said yes',
      digest,
      proof: { kind: 'key', signature: approvalBy('bob', operationId, digest) },
    });
    assert.equal(answer.accepted, false);
    assert.equal(
      answer.refusal,
      "the proof of identity is refused: the signature does not verify against the approver's key",
    );
    assert.equal((await refusals(harness, operationId, 1))[0]?.payload.approver, 'carol');
    assert.equal((await harness.writ.state(operationId)).state, 'awaiting_approval');
  });
});

describe('when the requester approves their own request with their own valid key', () => {
  test('the proof is good and still the approval is refused as self-approval, by update and by signal', async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const { operationId, digest } = await awaiting(harness);
    const signature = approvalBy('alice', operationId, digest);
    const answer = await harness.writ.approve(operationId, {
      approver: 'ALICE',
      reason: 'I am a manager too',
      digest,
      proof: { kind: 'key', signature },
    });
    assert.equal(answer.accepted, false);
    assert.equal(answer.refusal, 'the requester cannot approve their own operation');
    await harness.writ
      .handle(operationId)
      .signal('approve', { approver: 'alice', reason: 'by signal', digest, signature });
    const refused = await refusals(harness, operationId, 2);
    assert.deepEqual(
      refused.map((record) => record.payload.approver),
      ['alice', 'alice'],
    );
    assert.equal((await harness.writ.state(operationId)).state, 'awaiting_approval');
    assert.equal((await harness.writ.state(operationId)).approvals.granted.length, 0);
  });
});

describe('when someone resolves an operation that needs intervention', () => {
  test('an unproved resolution, or one whose signature covers other words, is refused; dana’s key-signed one counts', async (t) => {
    let verifications = 0;
    const harness = await startWrit(t, {
      policy: { id: 'proved-resolutions', rules: [] },
      approvers: {
        ...directory,
        approvers: [...directory.approvers, { id: 'dana', groups: ['oncall'], publicKey: rawPublic(dana.publicKey) }],
        resolverGroups: ['oncall'],
      },
      connectors: (ledger) => [
        withHooks(postgresConnector({ pool: ledger.pool, allowLedgerDatabase: true }), {
          beforeVerify: async () => {
            if (++verifications === 1) await ledger.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 42`);
          },
          rollback: async () => {
            throw new Error('the CRM is read-only for maintenance');
          },
        }),
      ],
    });
    const { operationId } = await harness.writ.start(updateTier(), { identity: { key: keys.alice.privateKey } });
    await waitForState(harness.writ, operationId, 'needs_intervention', 60_000);
    const digest = (await harness.writ.state(operationId)).approvals.digest!;
    const resolution = { action: 'restored tier=silver by hand', reason: 'rollback refused during maintenance' };
    const signed = (words: typeof resolution) =>
      signDecision({ kind: 'resolve', operationId, digest, resolution: words }, dana.privateKey);

    const unproved = await harness.writ.resolve(operationId, { by: 'dana', ...resolution });
    assert.equal(unproved.accepted, false);
    assert.match(unproved.refusal!, /^policy requires a verified identity for decisions, and this one proves none/);
    const otherWords = signed({ ...resolution, action: 'nothing needed doing' });
    const moved = await harness.writ.resolve(operationId, {
      by: 'dana',
      ...resolution,
      digest,
      proof: { kind: 'key', signature: otherWords },
    });
    assert.equal(moved.accepted, false);
    assert.equal(
      moved.refusal,
      "the proof of identity is refused: the signature does not verify against the approver's key",
    );

    const signature = signed(resolution);
    const accepted = await harness.writ.resolve(operationId, {
      by: 'dana',
      ...resolution,
      digest,
      signature,
      proof: { kind: 'key', signature },
    });
    assert.equal(accepted.accepted, true, accepted.refusal);
    assert.equal((await harness.writ.result(operationId)).outcome, 'resolved_manually');
    const events = await ledgerEvents(harness.ledger, operationId);
    assert.equal(events.filter((event) => event.type === 'operation.resolve_refused').length, 2);
    const resolved = events.find((event) => event.type === 'operation.resolved')!;
    assert.equal((resolved.payload.identity as { channel: string }).channel, 'key');
  });
});
