import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPublicKey } from 'node:crypto';
import { signChannelAssertion } from '../../src/identity/channel-signer.js';
import { ed25519, rawPublic } from '../support/identity.js';
import type { WritHarness } from '../support/writ.js';
import { ledgerEvents, startWrit, updateTier, waitForState } from '../support/writ.js';

/**
 * A channel's assertion (writ serve after a Slack click or a login) is what makes a decision count,
 * so whoever can reach Temporal and has seen one will try to reuse it: for another person, another
 * kind of decision, or twice. Each attempt here is sent as such a Temporal client sends it.
 */

const alice = ed25519();
const channel = ed25519();
const stranger = ed25519();
const TEAM = 'T0TEAM';
const directory = {
  slackTeams: [TEAM],
  channels: [
    {
      name: 'writ-serve',
      publicKey: createPublicKey(channel.privateKey).export({ format: 'pem', type: 'spki' }).toString(),
    },
  ],
  approvers: [
    {
      id: 'alice',
      groups: ['managers'],
      publicKey: rawPublic(alice.publicKey),
      slack: [{ team: TEAM, user: 'UALICE' }],
    },
    { id: 'bob', groups: ['managers'], slack: [{ team: TEAM, user: 'UBOB' }] },
    { id: 'carol', groups: ['managers'], slack: [{ team: TEAM, user: 'UCAROL' }] },
  ],
};
const policy = {
  id: 'channel-decisions',
  rules: [
    {
      name: 'tier-changes-need-a-manager',
      match: { connector: 'postgres', action: 'update', target: 'public.accounts/*' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], windowMs: 60_000 },
    },
  ],
};
const REASON = 'approved in Slack by bob (T0TEAM/UBOB)';

async function awaiting(harness: WritHarness): Promise<{ operationId: string; digest: string }> {
  const { operationId } = await harness.writ.start(updateTier(), { identity: { key: alice.privateKey } });
  await waitForState(harness.writ, operationId, 'awaiting_approval');
  return { operationId, digest: (await harness.writ.state(operationId)).approvals.digest! };
}

function bobsClick(
  operationId: string,
  digest: string,
  key = channel.privateKey,
  decision: 'approve' | 'reject' = 'approve',
) {
  return signChannelAssertion(
    { name: 'writ-serve', privateKey: key },
    {
      subject: 'bob',
      channel: 'slack',
      decision,
      operationId,
      digest,
      reason: REASON,
      slack: { team: TEAM, user: 'UBOB' },
      at: Math.floor(Date.now() / 1000),
    },
  );
}

describe("a channel's assertion counts for the one decision it was made for", () => {
  test("bob's assertion naming carol, signed by an unpinned key, or turned into a rejection is refused; used once it counts, twice it does not", async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const { operationId, digest } = await awaiting(harness);
    const assertion = await bobsClick(operationId, digest);
    const send = (approver: string, proof: string, kind: 'approve' | 'reject' = 'approve') =>
      harness.writ[kind](operationId, {
        approver,
        reason: REASON,
        digest,
        proof: { kind: 'channel', assertion: proof },
      });

    const asCarol = await send('carol', assertion);
    assert.equal(asCarol.accepted, false);
    assert.match(asCarol.refusal!, /the proof is bob's, and the decision names carol/);

    const forged = await send('bob', await bobsClick(operationId, digest, stranger.privateKey));
    assert.match(forged.refusal!, /no pinned Writ channel has the key/);

    const turned = await send('bob', assertion, 'reject');
    assert.match(turned.refusal!, /for a approve, not a reject/);
    assert.equal((await harness.writ.state(operationId)).state, 'awaiting_approval');

    const counted = await send('bob', assertion);
    assert.equal(counted.accepted, true, counted.refusal);
    const granted = (await ledgerEvents(harness.ledger, operationId)).find((e) => e.type === 'approval.granted')!;
    assert.equal(granted.payload.identityVerified, true);
    assert.equal((granted.payload.identity as { channel: string }).channel, 'slack');
    const refused = (await ledgerEvents(harness.ledger, operationId)).filter((e) => e.type === 'approval.refused');
    assert.equal(refused.length, 3, 'every refused attempt is on the record');
    assert.equal((await harness.writ.result(operationId)).outcome, 'succeeded');
    const again = await send('bob', assertion).catch((error: Error) => ({ accepted: false, refusal: error.message }));
    assert.equal(again.accepted, false, 'the same assertion does not count twice');
  });

  test('the requester cannot approve her own request through a channel either', async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const { operationId, digest } = await awaiting(harness);
    const hers = await signChannelAssertion(
      { name: 'writ-serve', privateKey: channel.privateKey },
      {
        subject: 'alice',
        channel: 'slack',
        decision: 'approve',
        operationId,
        digest,
        reason: 'mine',
        slack: { team: TEAM, user: 'UALICE' },
        at: Math.floor(Date.now() / 1000),
      },
    );
    const answer = await harness.writ.approve(operationId, {
      approver: 'alice',
      reason: 'mine',
      digest,
      proof: { kind: 'channel', assertion: hers },
    });
    assert.equal(answer.refusal, 'the requester cannot approve their own operation');
  });
});
