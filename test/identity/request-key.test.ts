import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { newTraceparent } from '../../src/client.js';
import { signRequest } from '../../src/identity/request-proof.js';
import { parseRequest } from '../../src/model/request.js';
import { ed25519, rawPublic, recordsWithActor, refusedAtPlan, tierOf } from '../support/identity.js';
import type { WritHarness } from '../support/writ.js';
import { ledgerEvents, startWrit, updateTier } from '../support/writ.js';

/**
 * A requester holds a Temporal client and nothing else: whatever name it puts in `actor`, the
 * operation runs as the person its proof establishes, and a request without a valid proof never
 * runs. Policy here is the default: verified identities for requests.
 */

const alice = ed25519();
const mallory = ed25519();
const directory = {
  approvers: [{ id: 'bob', groups: ['managers'] }],
  requesters: [
    { id: 'alice', groups: ['sales-ops'], publicKey: rawPublic(alice.publicKey) },
    { id: 'mallory', groups: ['interns'], publicKey: rawPublic(mallory.publicKey) },
  ],
};
const policy = { id: 'proved-requests', rules: [] };

/** Starts the workflow as any Temporal client can: no WritClient on the way, the request as given. */
async function startRaw(harness: WritHarness, request: Record<string, unknown>): Promise<string> {
  const operationId = String(request.operationId);
  await harness.client.workflow.start('governedWrite', {
    taskQueue: harness.taskQueue,
    workflowId: operationId,
    args: [{ traceparent: newTraceparent(), mode: 'execute', ...request }, { activityTimeoutMs: 10_000 }],
  });
  return operationId;
}

/** A request as the worker will parse it, with its operationId fixed: what a requester signs. */
function parsedRequest(overrides: Parameters<typeof updateTier>[0] = {}, tier = 'gold') {
  const parsed = parseRequest({ ...updateTier(overrides, tier), operationId: randomUUID() });
  assert.ok(parsed.ok);
  return parsed.request as typeof parsed.request & { operationId: string };
}

describe('when a requester signs a request with the key the directory lists for them', () => {
  test('it runs as that verified person with the directory groups, whatever groups it claims', async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const started = await harness.writ.start(updateTier({ actor: { id: 'Alice', kind: 'user', groups: ['admins'] } }), {
      identity: { key: alice.privateKey },
    });
    const result = await harness.writ.result(started.operationId);
    assert.equal(result.outcome, 'succeeded');
    assert.equal(await tierOf(harness.ledger), 'gold');

    const events = await ledgerEvents(harness.ledger, started.operationId);
    const planned = events.find((event) => event.type === 'operation.planned')!;
    const envelope = planned.payload.envelope as { actor: Record<string, unknown> };
    assert.deepEqual(envelope.actor, { id: 'alice', kind: 'user', groups: ['sales-ops'], identity: 'verified' });
    assert.deepEqual(planned.payload.claimedGroups, ['admins']);
    const identity = planned.payload.identity as Record<string, unknown>;
    assert.equal(identity.verified, true);
    assert.equal(identity.channel, 'key');
    assert.equal(identity.id, 'alice');
    assert.match(String(identity.keyId), /^[0-9a-f]{64}$/);
    assert.match(String(identity.signature), /^[A-Za-z0-9+/]{86}==$/);

    const operationRecords = (await recordsWithActor(harness.ledger, started.operationId)).filter(
      (record) => record.actor.id === 'alice',
    );
    assert.ok(operationRecords.some((record) => record.type === 'step.executed'));
    for (const record of operationRecords) assert.equal(record.actor.identity, 'verified', record.type);
  });
});

describe('when a request proves no identity', () => {
  test('it is refused and recorded with the reason, and nothing is executed', async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const started = await harness.writ.start(updateTier());
    const result = await harness.writ.result(started.operationId);
    assert.equal(result.outcome, 'invalid');
    const refusal = await refusedAtPlan(harness.ledger, started.operationId);
    assert.match(
      refusal.problem,
      /policy proved-requests requires a verified identity for requests, and this request proves none: .*writ submit --token or --key/,
    );
    assert.deepEqual(refusal.identity, { verified: false, id: null, channel: 'asserted' });
    assert.ok(!refusal.types.some((type) => type.startsWith('step.')), refusal.types.join(', '));
    assert.equal(await tierOf(harness.ledger), 'silver');
  });
});

describe('when a requester signs with a key that is not the named actor’s', () => {
  test('mallory signing a request that names alice is refused and recorded; nothing runs', async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const request = parsedRequest();
    const operationId = await startRaw(harness, {
      ...request,
      identity: { kind: 'key', signature: signRequest(request, mallory.privateKey) },
    });
    assert.equal((await harness.writ.result(operationId)).outcome, 'invalid');
    const refusal = await refusedAtPlan(harness.ledger, operationId);
    assert.equal(
      refusal.problem,
      "the request's proof of identity is refused: the signature does not verify against alice's key",
    );
    assert.equal(refusal.identity?.channel, 'key');
    assert.equal(refusal.identity?.verified, false);
    assert.ok(!refusal.types.some((type) => type.startsWith('step.')));
    assert.equal(await tierOf(harness.ledger), 'silver');
  });

  test('a signature on a request naming someone with no key in the directory is refused', async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const request = parsedRequest({ actor: { id: 'bob', kind: 'user', groups: [] } });
    const operationId = await startRaw(harness, {
      ...request,
      identity: { kind: 'key', signature: signRequest(request, mallory.privateKey) },
    });
    assert.equal((await harness.writ.result(operationId)).outcome, 'invalid');
    assert.match((await refusedAtPlan(harness.ledger, operationId)).problem, /bob has no key in the directory/);
  });
});

describe('when a signature made for one request is attached to another', () => {
  test('a changed tier, intent, mode or operation id is refused: the signature covers what was asked', async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const changes: Array<[string, Record<string, unknown>]> = [
      ['steps', { steps: updateTier({}, 'platinum').steps }],
      ['intent', { intent: 'something else entirely' }],
      ['mode', { mode: 'dry-run' }],
      ['labels', { labels: { ticket: 'chg-1' } }],
      ['operationId', { operationId: randomUUID() }],
    ];
    for (const [what, change] of changes) {
      // Alice signed this request and never sent it; the attacker sends it changed, signature and all.
      const signed = parsedRequest({}, 'bronze');
      const signature = signRequest(signed, alice.privateKey);
      const operationId = await startRaw(harness, { ...signed, ...change, identity: { kind: 'key', signature } });
      assert.equal((await harness.writ.result(operationId)).outcome, 'invalid', what);
      assert.equal(
        (await refusedAtPlan(harness.ledger, operationId)).problem,
        "the request's proof of identity is refused: the signature does not verify against alice's key",
        what,
      );
    }
    assert.equal(await tierOf(harness.ledger), 'silver');
  });
});

describe('when the caller gives WritClient.start an identity it cannot send', () => {
  test('two proofs, a key that is not an Ed25519 private key, and a malformed token are refused before anything starts', async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const operationId = randomUUID();
    const request = updateTier({ operationId });
    const cases: Array<[Parameters<typeof harness.writ.start>[1], RegExp, object?]> = [
      [
        { identity: { key: alice.privateKey } },
        /request refused: the request carries its own identity proof and start\(\) was given another; send one/,
        { identity: { kind: 'key', signature: 'c2ln' } },
      ],
      [
        { identity: { key: alice.publicKey } },
        /request refused: a request is signed with an Ed25519 private key, and this is ed25519 public key/,
      ],
      [
        { identity: { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey } },
        /request refused: a request is signed with an Ed25519 private key, and this is rsa private key/,
      ],
      [{ identity: { token: async () => 'not a jwt' } }, /request refused: token must be a compact JWT/],
    ];
    for (const [options, message, extra] of cases)
      await assert.rejects(harness.writ.start({ ...request, ...extra }, options), message);
    await assert.rejects(harness.writ.state(operationId), /not found/i, 'nothing was started');
  });
});

describe('when someone who saw a signed request starts it again after it closed', () => {
  test('the second run of the same operation id writes nothing again', async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const request = parsedRequest();
    const signed = { ...request, identity: { kind: 'key', signature: signRequest(request, alice.privateKey) } };
    const operationId = await startRaw(harness, signed);
    assert.equal((await harness.writ.result(operationId)).outcome, 'succeeded');
    await harness.ledger.pool.query(`UPDATE accounts SET tier = 'silver' WHERE id = 42`);
    // Temporal lets a closed workflow id be started again unless the starter says otherwise.
    await startRaw(harness, signed);
    const again = await harness.client.workflow
      .getHandle(operationId)
      .result()
      .then(
        () => 'completed',
        (error: Error & { cause?: { type?: string } }) => error.cause?.type,
      );
    // The signature still verifies (it is the same request); the ledger, which holds this
    // operation's first run, refuses a second one, and records the attempt.
    assert.equal(again, 'LEDGER_KEY_CONFLICT');
    const types = (await ledgerEvents(harness.ledger, operationId)).map((event) => event.type);
    assert.equal(types.filter((type) => type === 'step.executing').length, 1, types.join(', '));
    assert.ok(types.includes('ledger.key_conflict'), types.join(', '));
    assert.equal(await tierOf(harness.ledger), 'silver');
  });
});
