import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { decisionMessage } from '../../src/verify/decision-signature.js';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { newTraceparent } from '../../src/client.js';
import { withHooks } from '../support/hooked-connector.js';
import type { WritHarness } from '../support/writ.js';
import { ledgerEvents, startWrit, updateTier, waitForState } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

/**
 * Approvals, rejections and resolutions are decisions: each names a person, and a person is a
 * canonical id in the approver directory, whatever spelling or channel (signal or update) an
 * attacker who can reach Temporal uses.
 */

const keys = { bob: generateKeyPairSync('ed25519'), carol: generateKeyPairSync('ed25519') };
const rawPublic = (key: ReturnType<typeof generateKeyPairSync>['publicKey']) =>
  Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url').toString('base64');

const approvers = {
  approvers: [
    { id: 'Bob', groups: ['managers'], publicKey: rawPublic(keys.bob.publicKey) },
    { id: 'carol', groups: ['managers'], publicKey: rawPublic(keys.carol.publicKey) },
    { id: 'dana', groups: ['oncall'] },
    { id: 'erin', groups: ['interns'] },
  ],
  resolverGroups: ['oncall'],
};

function policy(signed = false) {
  return {
    id: 'decisions',
    identity: ASSERTED_IDENTITIES,
    rules: [
      {
        name: 'tier-changes-need-a-manager',
        match: { connector: 'postgres', action: 'update', target: 'public.accounts/*' },
        risk: 'high',
        approvals: { required: 1, fromGroups: ['managers'], windowMs: 60_000, signed },
      },
    ],
  };
}

const SPELLINGS = ['bob ', 'BOB', 'Ｂｏｂ', '  Bob'];

async function awaitingFrom(harness: WritHarness, actorId: string): Promise<string> {
  // A raw Temporal client, as a requester would use it: no WritClient validation on the way in.
  const operationId = randomUUID();
  await harness.client.workflow.start('governedWrite', {
    taskQueue: harness.taskQueue,
    workflowId: operationId,
    args: [
      {
        ...updateTier({ actor: { id: actorId, kind: 'user', groups: [] } }),
        operationId,
        traceparent: newTraceparent(),
        mode: 'execute',
      },
      { activityTimeoutMs: 10_000 },
    ],
  });
  await waitForState(harness.writ, operationId, 'awaiting_approval');
  return operationId;
}

describe('when the requester approves their own operation under another spelling of their id', () => {
  test('each spelling, by update or by signal, is refused as self-approval and recorded; the operation keeps waiting', async (t) => {
    const harness = await startWrit(t, { policy: policy(), approvers });
    const { ledger, writ } = harness;
    const operationId = await awaitingFrom(harness, 'bob');
    const digest = (await writ.state(operationId)).approvals.digest!;
    for (const spelling of SPELLINGS) {
      const answer = await writ.approve(operationId, { approver: spelling, reason: 'looks right to me', digest });
      assert.equal(answer.accepted, false, `approving as ${JSON.stringify(spelling)} must be refused`);
      assert.equal(answer.refusal, 'the requester cannot approve their own operation');
    }
    for (const spelling of SPELLINGS)
      await writ.handle(operationId).signal('approve', { approver: spelling, reason: 'by signal', digest });
    await waitForRecords(harness, operationId, 'approval.refused', SPELLINGS.length * 2);
    const refused = (await ledgerEvents(ledger, operationId)).filter((e) => e.type === 'approval.refused');
    assert.deepEqual(
      refused.map((r) => [r.payload.approver, r.payload.approverAsGiven, r.payload.approverDiffersFromRequester]),
      [...SPELLINGS, ...SPELLINGS].map((spelling) => ['bob', spelling, false]),
    );
    assert.equal((await writ.state(operationId)).state, 'awaiting_approval');
    assert.equal((await writ.approve(operationId, { approver: 'carol', reason: 'checked', digest })).accepted, true);
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');
  });

  test('a request submitted as "Bob " (or full-width "Ｂｏｂ") is bob\'s: bob cannot approve it', async (t) => {
    const harness = await startWrit(t, { policy: policy(), approvers });
    for (const requester of ['Bob ', 'Ｂｏｂ']) {
      const operationId = await awaitingFrom(harness, requester);
      const answer = await harness.writ.approve(operationId, { approver: 'bob', reason: 'someone else asked' });
      assert.equal(answer.accepted, false);
      assert.equal(answer.refusal, 'the requester cannot approve their own operation');
      const planned = (await ledgerEvents(harness.ledger, operationId)).find((e) => e.type === 'operation.planned');
      assert.equal(
        (planned?.payload.envelope as { actor: { id: string } }).actor.id,
        'bob',
        'the envelope records the canonical requester',
      );
      await harness.writ.reject(operationId, { approver: 'carol', reason: 'cleanup' });
    }
  });

  test('an id holding an invisible character names no one: refused and recorded', async (t) => {
    const harness = await startWrit(t, { policy: policy(), approvers });
    const operationId = await awaitingFrom(harness, 'alice');
    const answer = await harness.writ.approve(operationId, { approver: 'car\u200bol', reason: 'zero-width' });
    assert.equal(answer.accepted, false);
    assert.match(answer.refusal!, /not a usable id: .*U\+200B/);
    const refused = (await ledgerEvents(harness.ledger, operationId)).filter((e) => e.type === 'approval.refused');
    assert.equal(refused.length, 1);
    await harness.writ.reject(operationId, { approver: 'carol', reason: 'cleanup' });
  });
});

describe('when someone rejects an operation', () => {
  test('a stranger claiming to be the requester is refused and recorded, by update and by signal', async (t) => {
    const harness = await startWrit(t, { policy: policy(), approvers });
    const operationId = await awaitingFrom(harness, 'alice');
    const answer = await harness.writ.reject(operationId, { approver: 'alice', reason: 'I withdraw (I am not alice)' });
    assert.equal(answer.accepted, false);
    assert.match(answer.refusal!, /requester alice may withdraw only as a person in the approver directory/);
    await harness.writ.handle(operationId).signal('reject', { approver: 'ALICE', reason: 'by signal' });
    await harness.writ.handle(operationId).signal('reject', { approver: 'mallory', reason: 'not in the directory' });
    await harness.writ.handle(operationId).signal('reject', { approver: 'erin', reason: 'an intern' });
    await waitForRecords(harness, operationId, 'approval.refused', 4);
    const refused = (await ledgerEvents(harness.ledger, operationId)).filter((e) => e.type === 'approval.refused');
    assert.deepEqual(
      refused.map((r) => [r.payload.kind, r.payload.approver]),
      [
        ['reject', 'alice'],
        ['reject', 'alice'],
        ['reject', 'mallory'],
        ['reject', 'erin'],
      ],
    );
    assert.match(String(refused[3]!.payload.refusal), /approver erin is in none of the allowed groups \(managers\)/);
    assert.equal((await harness.writ.state(operationId)).state, 'awaiting_approval', 'nothing was rejected');
    assert.equal((await harness.writ.reject(operationId, { approver: 'Carol', reason: 'not now' })).accepted, true);
    assert.equal((await harness.writ.result(operationId)).outcome, 'rejected');
  });

  test('the requester may withdraw as the directory person they are', async (t) => {
    const harness = await startWrit(t, { policy: policy(), approvers });
    const operationId = await awaitingFrom(harness, 'dana');
    assert.equal(
      (await harness.writ.reject(operationId, { approver: 'Dana', reason: 'asked by mistake' })).accepted,
      true,
    );
    assert.equal((await harness.writ.result(operationId)).outcome, 'rejected');
  });

  test('where policy requires signed approvals, an unsigned or forged rejection is refused and a signed one is recorded with its signature', async (t) => {
    const harness = await startWrit(t, { policy: policy(true), approvers });
    const operationId = await awaitingFrom(harness, 'alice');
    const digest = (await harness.writ.state(operationId)).approvals.digest!;
    assert.match(
      (await harness.writ.reject(operationId, { approver: 'carol', reason: 'unsigned' })).refusal!,
      /requires a signed rejection/,
    );
    const asApproval = sign(
      null,
      decisionMessage({ kind: 'approve', operationId, digest }),
      keys.carol.privateKey,
    ).toString('base64');
    assert.match(
      (
        await harness.writ.reject(operationId, {
          approver: 'carol',
          reason: 'an approval signature',
          digest,
          signature: asApproval,
        })
      ).refusal!,
      /does not verify/,
    );
    const signature = sign(
      null,
      decisionMessage({ kind: 'reject', operationId, digest }),
      keys.carol.privateKey,
    ).toString('base64');
    assert.equal(
      (await harness.writ.reject(operationId, { approver: 'carol', reason: 'signed no', digest, signature })).accepted,
      true,
    );
    assert.equal((await harness.writ.result(operationId)).outcome, 'rejected');
    const rejected = (await ledgerEvents(harness.ledger, operationId)).find((e) => e.type === 'approval.rejected');
    assert.equal(rejected?.payload.signature, signature);
    assert.match(String(rejected?.payload.keyId), /^[0-9a-f]{64}$/);
  });
});

describe('when a signed approval is accepted', () => {
  test("its signature and the approver's key id are in the ledger", async (t) => {
    const harness = await startWrit(t, { policy: policy(true), approvers });
    const operationId = await awaitingFrom(harness, 'alice');
    const digest = (await harness.writ.state(operationId)).approvals.digest!;
    const signature = sign(
      null,
      decisionMessage({ kind: 'approve', operationId, digest }),
      keys.bob.privateKey,
    ).toString('base64');
    assert.equal(
      (await harness.writ.approve(operationId, { approver: 'bob', reason: 'signed', digest, signature })).accepted,
      true,
    );
    assert.equal((await harness.writ.result(operationId)).outcome, 'succeeded');
    const granted = (await ledgerEvents(harness.ledger, operationId)).find((e) => e.type === 'approval.granted');
    const { createHash } = await import('node:crypto');
    const fingerprint = createHash('sha256')
      .update(Buffer.from(keys.bob.publicKey.export({ format: 'jwk' }).x!, 'base64url'))
      .digest('hex');
    assert.deepEqual(
      [granted?.payload.signature, granted?.payload.keyId, granted?.payload.signatureValid, granted?.payload.signed],
      [signature, fingerprint, true, true],
    );
  });
});

async function needsIntervention(t: Parameters<typeof startWrit>[0]) {
  let verifications = 0;
  const harness = await startWrit(t, {
    approvers,
    connectors: (l) => [
      withHooks(postgresConnector({ pool: l.pool, allowLedgerDatabase: true }), {
        beforeVerify: async () => {
          if (++verifications === 1) await l.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 42`);
        },
        rollback: async () => {
          throw new Error('the CRM is read-only for maintenance');
        },
      }),
    ],
  });
  const { operationId } = await harness.writ.start(updateTier());
  await waitForState(harness.writ, operationId, 'needs_intervention', 60_000);
  return { ...harness, operationId };
}

describe('when someone resolves an operation that needs intervention', () => {
  test('a stranger, or a directory person outside the resolver groups, is refused and recorded, by update and by signal', async (t) => {
    const { ledger, writ, operationId } = await needsIntervention(t);
    const stranger = await writ.resolve(operationId, { by: 'mallory', action: 'nothing', reason: 'I want it closed' });
    assert.equal(stranger.accepted, false);
    assert.equal(stranger.refusal, 'resolver mallory is not in the approver directory');
    const manager = await writ.resolve(operationId, { by: 'carol', action: 'nothing', reason: 'not on call' });
    assert.match(manager.refusal!, /resolver carol is in none of the groups that may resolve \(oncall\)/);
    await writ
      .handle(operationId)
      .signal('resolve', { by: 'requester-of-nothing', action: 'closed it', reason: 'by signal' });
    await writ.handle(operationId).signal('resolve', { by: 'dana', reason: 'no action said' });
    await waitForRecords({ ledger } as WritHarness, operationId, 'operation.resolve_refused', 4);
    assert.equal(
      (await writ.state(operationId)).state,
      'needs_intervention',
      'still waiting for a person with standing',
    );
    const refused = (await ledgerEvents(ledger, operationId)).filter((e) => e.type === 'operation.resolve_refused');
    assert.deepEqual(
      refused.map((r) => r.payload.by),
      ['mallory', 'carol', 'requester-of-nothing', 'dana'],
    );
    assert.match(String(refused[3]!.payload.refusal), /^malformed resolution: action: /);

    const accepted = await writ.resolve(operationId, {
      by: 'Dana ',
      action: 'restored tier=silver by hand',
      reason: 'rollback refused during maintenance',
    });
    assert.equal(accepted.accepted, true);
    assert.equal((await writ.result(operationId)).outcome, 'resolved_manually');
    const resolved = (await ledgerEvents(ledger, operationId)).find((e) => e.type === 'operation.resolved');
    assert.equal(resolved?.payload.by, 'dana');
    assert.deepEqual(resolved?.payload.resolverGroups, ['oncall']);
  });
});

async function waitForRecords(
  harness: Pick<WritHarness, 'ledger'>,
  operationId: string,
  type: string,
  count: number,
): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await ledgerEvents(harness.ledger, operationId)).filter((e) => e.type === type).length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`fewer than ${count} ${type} records for ${operationId}`);
}
