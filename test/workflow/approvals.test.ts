import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { decisionMessage } from '../../src/verify/decision-signature.js';
import { ledgerEvents, startWrit, updateTier, waitForState } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

const keys = { bob: generateKeyPairSync('ed25519'), mallory: generateKeyPairSync('ed25519') };
const rawPublic = (key: ReturnType<typeof generateKeyPairSync>['publicKey']) =>
  key.export({ format: 'jwk' }).x!.replace(/-/g, '+').replace(/_/g, '/') + '=';

const approvers = {
  approvers: [
    { id: 'alice', groups: ['managers'] },
    { id: 'bob', groups: ['managers'], publicKey: rawPublic(keys.bob.publicKey) },
    { id: 'carol', groups: ['managers'] },
    { id: 'dave', groups: ['interns'] },
  ],
};

function policy(approvals: { required: number; windowMs?: number; signed?: boolean }) {
  return {
    id: 'test-policy',
    identity: ASSERTED_IDENTITIES,
    rules: [
      {
        name: 'tier-changes-need-a-manager',
        match: { connector: 'postgres', action: 'update', target: 'public.accounts/*' },
        risk: 'high',
        approvals: { fromGroups: ['managers'], windowMs: 60_000, ...approvals },
      },
    ],
  };
}

async function tier(pool: { query: (sql: string) => Promise<{ rows: Array<{ tier: string }> }> }) {
  return (await pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0]!.tier;
}

describe('when policy requires approval', () => {
  test('the operation waits, and an approval from another manager lets it run', async (t) => {
    const { ledger, writ } = await startWrit(t, { policy: policy({ required: 1 }), approvers });
    const { operationId } = await writ.start(updateTier());
    await waitForState(writ, operationId, 'awaiting_approval');
    const waiting = await writ.state(operationId);
    assert.equal(waiting.approvals.stillNeeded, 1);
    assert.match(waiting.approvals.digest!, /^[0-9a-f]{64}$/);
    assert.equal(await tier(ledger.pool), 'silver', 'nothing is written before approval');

    const answer = await writ.approve(operationId, { approver: 'bob', reason: 'renewal confirmed' });
    assert.equal(answer.accepted, true);
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');
    assert.equal(await tier(ledger.pool), 'gold');
    const types = (await ledgerEvents(ledger, operationId)).map((e) => e.type);
    assert.deepEqual(types.slice(0, 7), [
      'operation.planned',
      'policy.decided',
      'operation.validated',
      'approval.requested',
      'approval.granted',
      'operation.approved',
      'step.executing',
    ]);
  });

  test('the requester approving their own operation is refused, and the refusal is in the ledger', async (t) => {
    const { ledger, writ } = await startWrit(t, { policy: policy({ required: 1 }), approvers });
    const { operationId } = await writ.start(updateTier());
    await waitForState(writ, operationId, 'awaiting_approval');
    const answer = await writ.approve(operationId, { approver: 'alice', reason: 'I approve myself' });
    assert.equal(answer.accepted, false);
    assert.equal(answer.refusal, 'the requester cannot approve their own operation');
    assert.equal((await writ.state(operationId)).state, 'awaiting_approval');
    const refusal = (await ledgerEvents(ledger, operationId)).find((e) => e.type === 'approval.refused');
    assert.equal(refusal?.payload.approver, 'alice');
    assert.equal(refusal?.payload.refusal, 'the requester cannot approve their own operation');
    assert.equal(refusal?.payload.approverDiffersFromRequester, false);
    await writ.approve(operationId, { approver: 'bob', reason: 'ok' });
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');
  });

  test('unknown approvers and approvers outside the allowed groups are refused and recorded', async (t) => {
    const { ledger, writ } = await startWrit(t, { policy: policy({ required: 1 }), approvers });
    const { operationId } = await writ.start(updateTier());
    await waitForState(writ, operationId, 'awaiting_approval');
    assert.match(
      (await writ.approve(operationId, { approver: 'eve', reason: 'trust me' })).refusal!,
      /not in the approver directory/,
    );
    assert.match(
      (await writ.approve(operationId, { approver: 'dave', reason: 'looks fine' })).refusal!,
      /none of the allowed groups \(managers\)/,
    );
    assert.match(
      (await writ.approve(operationId, { approver: 'bob', reason: 'old', digest: 'f'.repeat(64) })).refusal!,
      /^stale digest/,
    );
    const refusals = (await ledgerEvents(ledger, operationId)).filter((e) => e.type === 'approval.refused');
    assert.deepEqual(
      refusals.map((r) => r.payload.approver),
      ['eve', 'dave', 'bob'],
    );
    await writ.reject(operationId, { approver: 'carol', reason: 'cleanup' });
    await writ.result(operationId);
  });

  test('one rejection rejects, and nothing is written', async (t) => {
    const { ledger, writ } = await startWrit(t, { policy: policy({ required: 2 }), approvers });
    const { operationId } = await writ.start(updateTier());
    await waitForState(writ, operationId, 'awaiting_approval');
    await writ.approve(operationId, { approver: 'bob', reason: 'fine by me' });
    const answer = await writ.reject(operationId, { approver: 'carol', reason: 'customer has not paid' });
    assert.equal(answer.accepted, true);
    const result = await writ.result(operationId);
    assert.equal(result.outcome, 'rejected');
    assert.equal(await tier(ledger.pool), 'silver');
    const types = (await ledgerEvents(ledger, operationId)).map((e) => e.type);
    assert.deepEqual(types.slice(-3), ['approval.rejected', 'operation.rejected', 'operation.closed']);
  });

  test('the approval window expires the operation', async (t) => {
    const { ledger, writ } = await startWrit(t, { policy: policy({ required: 1, windowMs: 1500 }), approvers });
    const { operationId } = await writ.start(updateTier());
    const result = await writ.result(operationId);
    assert.equal(result.outcome, 'expired');
    assert.equal(await tier(ledger.pool), 'silver');
    assert.deepEqual((await ledgerEvents(ledger, operationId)).map((e) => e.type).slice(-2), [
      'operation.expired',
      'operation.closed',
    ]);
  });

  test('a quorum of two needs two distinct approvers', async (t) => {
    const { writ } = await startWrit(t, { policy: policy({ required: 2 }), approvers });
    const { operationId } = await writ.start(updateTier());
    await waitForState(writ, operationId, 'awaiting_approval');
    assert.equal((await writ.approve(operationId, { approver: 'bob', reason: 'yes' })).stillNeeded, 1);
    const twice = await writ.approve(operationId, { approver: 'bob', reason: 'yes again' });
    assert.equal(twice.accepted, false);
    assert.match(twice.refusal!, /already approved/);
    assert.equal((await writ.state(operationId)).state, 'awaiting_approval');
    assert.equal((await writ.approve(operationId, { approver: 'carol', reason: 'yes' })).accepted, true);
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');
  });

  test('an approval goes stale when the target changes before execution, and the operation asks again', async (t) => {
    const { ledger, writ } = await startWrit(t, { policy: policy({ required: 1 }), approvers });
    const { operationId } = await writ.start(updateTier());
    await waitForState(writ, operationId, 'awaiting_approval');
    const firstDigest = (await writ.state(operationId)).approvals.digest;
    await ledger.pool.query(`UPDATE accounts SET name = 'Acme Corporation' WHERE id = 42`);
    await writ.approve(operationId, { approver: 'bob', reason: 'approved the old row' });
    await waitForState(writ, operationId, 'awaiting_approval');
    const again = await writ.state(operationId);
    assert.notEqual(again.approvals.digest, firstDigest, 'a new digest for the new target version');
    assert.equal(again.approvals.granted.length, 0);
    assert.equal(await tier(ledger.pool), 'silver', 'nothing was written on the stale approval');
    assert.equal(
      (await writ.approve(operationId, { approver: 'carol', reason: 'approved the current row' })).accepted,
      true,
    );
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');
    const row = await ledger.pool.query('SELECT name, tier FROM accounts WHERE id = 42');
    assert.deepEqual(row.rows[0], { name: 'Acme Corporation', tier: 'gold' });
    const stale = (await ledgerEvents(ledger, operationId)).find((e) => e.type === 'approval.stale');
    assert.equal(stale?.payload.approvedDigest, firstDigest);
  });

  test('where policy requires signed approvals, a missing or forged signature is refused and recorded', async (t) => {
    const { ledger, writ } = await startWrit(t, { policy: policy({ required: 1, signed: true }), approvers });
    const { operationId } = await writ.start(updateTier());
    await waitForState(writ, operationId, 'awaiting_approval');
    const digest = (await writ.state(operationId)).approvals.digest!;
    const unsigned = await writ.approve(operationId, { approver: 'bob', reason: 'no pen' });
    assert.match(unsigned.refusal!, /requires a signed approval/);
    const forged = sign(
      null,
      decisionMessage({ kind: 'approve', operationId, digest }),
      keys.mallory.privateKey,
    ).toString('base64');
    assert.match(
      (await writ.approve(operationId, { approver: 'bob', reason: 'forged', digest, signature: forged })).refusal!,
      /signature does not verify/,
    );
    const genuine = sign(null, decisionMessage({ kind: 'approve', operationId, digest }), keys.bob.privateKey).toString(
      'base64',
    );
    assert.equal(
      (await writ.approve(operationId, { approver: 'bob', reason: 'signed', digest, signature: genuine })).accepted,
      true,
    );
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');
    const decisions = (await ledgerEvents(ledger, operationId)).filter(
      (e) => e.type.startsWith('approval.') && e.type !== 'approval.requested',
    );
    assert.deepEqual(
      decisions.map((d) => [d.type, d.payload.signed]),
      [
        ['approval.refused', false],
        ['approval.refused', true],
        ['approval.granted', true],
      ],
    );
  });

  test('an approval sent as a signal is judged and recorded the same way', async (t) => {
    const { ledger, writ } = await startWrit(t, { policy: policy({ required: 1 }), approvers });
    const { operationId, handle } = await writ.start(updateTier());
    await waitForState(writ, operationId, 'awaiting_approval');
    const digest = (await writ.state(operationId)).approvals.digest!;
    await handle.signal('approve', { approver: 'alice', reason: 'self', digest });
    await handle.signal('approve', { approver: 'bob', reason: 'by signal', digest });
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');
    const decisions = (await ledgerEvents(ledger, operationId)).filter(
      (e) => e.type === 'approval.refused' || e.type === 'approval.granted',
    );
    assert.deepEqual(
      decisions.map((d) => [d.type, d.payload.approver]),
      [
        ['approval.refused', 'alice'],
        ['approval.granted', 'bob'],
      ],
    );
  });
});
