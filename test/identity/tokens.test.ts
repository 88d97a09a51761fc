import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DevIdentityProvider } from '../../src/devstack/identity-provider.js';
import { startIdentityProvider } from '../../src/devstack/identity-provider.js';
import { recordsWithActor, refusedAtPlan, tierOf } from '../support/identity.js';
import type { WritHarness } from '../support/writ.js';
import { ledgerEvents, startWrit, updateTier, waitForState } from '../support/writ.js';

/**
 * A service proves who it is with a token from the company's identity provider (client
 * credentials), checked by the worker against the provider's published keys. The attacker holds
 * a Temporal client and whatever tokens it can get or see: expired ones, ones minted for another
 * API, ones from a provider nobody trusts, hand-made ones, and tokens already spent.
 */

const SECRET = 'deploy-bot-secret-0123456789';
const policy = { id: 'proved-requests', rules: [] };

type TestContext = { after: (fn: () => Promise<void>) => void };

async function provider(t: TestContext, audience?: string): Promise<DevIdentityProvider> {
  const idp = await startIdentityProvider({
    people: [],
    clients: [{ clientId: 'deploy-bot', clientSecret: SECRET, grant: 'client_credentials' }],
    ...(audience ? { audience } : {}),
  });
  t.after(() => idp.close());
  return idp;
}

/** The directory trusts `idp` for tokens meant for Writ, and knows the service by its subject there. */
function directoryTrusting(idp: DevIdentityProvider, audiences = [idp.audience]) {
  return {
    approvers: [{ id: 'bob', groups: ['managers'], logins: [{ issuer: idp.issuer, subject: 'bob' }] }],
    requesters: [
      {
        id: 'deploy-bot',
        kind: 'service' as const,
        groups: ['deployers'],
        logins: [{ issuer: idp.issuer, subject: 'deploy-bot' }],
      },
      {
        id: 'admin-bot',
        kind: 'service' as const,
        groups: ['admins'],
        logins: [{ issuer: idp.issuer, subject: 'admin-bot' }],
      },
    ],
    identityProviders: [{ issuer: idp.issuer, audiences }],
  };
}

const tokenOf = (idp: DevIdentityProvider) => () => idp.clientCredentialsToken('deploy-bot', SECRET);

/** Sends `token` on a request and answers what the worker refused it for; the write never ran. */
async function refusedWith(harness: WritHarness, token: string): Promise<string> {
  const started = await harness.writ.start(updateTier({}, 'platinum'), {
    identity: { proof: { kind: 'token', token } },
  });
  assert.equal((await harness.writ.result(started.operationId)).outcome, 'invalid');
  const refusal = await refusedAtPlan(harness.ledger, started.operationId);
  assert.equal(refusal.identity?.verified, false);
  assert.equal(refusal.identity?.channel, 'token');
  assert.ok(!refusal.types.some((type) => type.startsWith('step.')), refusal.types.join(', '));
  assert.notEqual(await tierOf(harness.ledger), 'platinum');
  return refusal.problem;
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));

describe('when a service sends a client-credentials token from the trusted provider', () => {
  test('the operation runs as the service the token names, whatever actor.id says, and the token counts once', async (t) => {
    const idp = await provider(t);
    const harness = await startWrit(t, { policy, approvers: directoryTrusting(idp) });
    let fetched = 0;
    const identity = { token: () => (fetched++, tokenOf(idp)()) };
    const started = await harness.writ.start(
      updateTier({ actor: { id: 'admin-bot', kind: 'user', groups: ['admins'] } }),
      { identity },
    );
    assert.equal((await harness.writ.result(started.operationId)).outcome, 'succeeded');
    const planned = (await ledgerEvents(harness.ledger, started.operationId)).find(
      (event) => event.type === 'operation.planned',
    )!;
    const envelope = planned.payload.envelope as { actor: Record<string, unknown> };
    assert.deepEqual(envelope.actor, {
      id: 'deploy-bot',
      kind: 'service',
      groups: ['deployers'],
      identity: 'verified',
    });
    assert.equal(planned.payload.actorAsGiven, 'admin-bot');
    const proved = planned.payload.identity as Record<string, unknown>;
    assert.equal(proved.channel, 'token');
    assert.equal(proved.issuer, idp.issuer);
    assert.equal(proved.subject, 'deploy-bot');
    assert.match(String(proved.providerKey), /^[A-Za-z0-9_-]{43}$/);
    const records = await recordsWithActor(harness.ledger, started.operationId);
    for (const record of records.filter((r) => r.actor.id === 'deploy-bot'))
      assert.equal(record.actor.identity, 'verified', record.type);
    assert.ok(records.some((r) => r.type === 'step.executed' && r.actor.id === 'deploy-bot'));
    // The bearer token is on the record, to be checked; the state query (writ status --json, the
    // Web UI's queries) shows only what kind of proof came.
    const shown = await harness.writ.state(started.operationId);
    assert.deepEqual(shown.request.identity, { kind: 'token' });
    assert.ok(!JSON.stringify(shown).includes(String(proved.token).split('.')[2]!), 'the token is not in the state');

    // A retry of the same operationId fetches a fresh token and is the same operation, not a conflict.
    const again = await harness.writ.start(
      updateTier({ operationId: started.operationId, actor: { id: 'admin-bot', kind: 'user', groups: ['admins'] } }),
      { identity },
    );
    assert.equal(again.duplicate, true);
    assert.equal(fetched, 2, 'each start asks the source for a fresh token');

    // Someone who saw the spent token (it is in the workflow's history) sends it again.
    const problem = await refusedWith(harness, String(proved.token));
    assert.equal(
      problem,
      `the request's proof of identity is refused: the proof was already used (request of ${started.operationId}): a proof counts once`,
    );
  });
});

describe('when the token is not one Writ may accept', () => {
  test('an expired token is refused with its expiry', async (t) => {
    const idp = await provider(t);
    // The worker's clock is an hour on: the real token, issued for ten minutes, has run out.
    const harness = await startWrit(t, {
      policy,
      approvers: directoryTrusting(idp),
      now: () => new Date(Date.now() + 3600_000),
    });
    const token = await tokenOf(idp)();
    assert.match(
      await refusedWith(harness, token),
      new RegExp(`^the request's proof of identity is refused: the token expired \\(exp ${claimsOf(token).exp}\\)$`),
    );
  });

  test('a token the trusted provider minted for another API (audience) is refused', async (t) => {
    const idp = await provider(t, 'billing-api');
    const harness = await startWrit(t, { policy, approvers: directoryTrusting(idp, ['writ']) });
    assert.equal(
      await refusedWith(harness, await tokenOf(idp)()),
      `the request's proof of identity is refused: the token's audience "billing-api" is none of writ`,
    );
  });

  test('a token from a provider the directory does not trust is refused, though its subject matches', async (t) => {
    const trusted = await provider(t);
    const rogue = await provider(t);
    const harness = await startWrit(t, { policy, approvers: directoryTrusting(trusted) });
    assert.equal(
      await refusedWith(harness, await tokenOf(rogue)()),
      `the request's proof of identity is refused: the token's issuer "${rogue.issuer}" is not a trusted identity provider`,
    );
  });

  test('an unsigned token (alg "none") made by hand from a real one is refused', async (t) => {
    const idp = await provider(t);
    const harness = await startWrit(t, { policy, approvers: directoryTrusting(idp) });
    const claims = claimsOf(await tokenOf(idp)());
    const unsigned = `${base64url({ alg: 'none', typ: 'at+jwt' })}.${base64url({ ...claims, sub: 'admin-bot' })}.`;
    assert.equal(
      await refusedWith(harness, unsigned),
      `the request's proof of identity is refused: the token is unsigned (alg "none")`,
    );
  });

  test('a real token whose claims or signature were changed is refused', async (t) => {
    const idp = await provider(t);
    const harness = await startWrit(t, { policy, approvers: directoryTrusting(idp) });
    const [header, payload, signature] = (await tokenOf(idp)()).split('.') as [string, string, string];
    const promoted = `${header}.${base64url({ ...claimsOf(`.${payload}.`), sub: 'admin-bot' })}.${signature}`;
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    for (const tampered of [promoted, `${header}.${payload}.${flipped}`])
      assert.equal(
        await refusedWith(harness, tampered),
        `the request's proof of identity is refused: the token's signature does not verify against ${idp.issuer}'s key`,
      );
  });
});

describe('when a decision carries a provider token as its proof', () => {
  test('a real token of the approver is refused: it does not say what was decided', async (t) => {
    const idp = await startIdentityProvider({
      people: [],
      clients: [
        { clientId: 'deploy-bot', clientSecret: SECRET, grant: 'client_credentials' },
        { clientId: 'bob', clientSecret: SECRET, grant: 'client_credentials' },
      ],
    });
    t.after(() => idp.close());
    const gated = {
      id: 'gated',
      rules: [
        {
          name: 'manager',
          match: { target: 'public.accounts/*' },
          risk: 'high',
          approvals: { required: 1, fromGroups: ['managers'] },
        },
      ],
    };
    const harness = await startWrit(t, { policy: gated, approvers: directoryTrusting(idp) });
    const { operationId } = await harness.writ.start(updateTier(), { identity: { token: tokenOf(idp) } });
    await waitForState(harness.writ, operationId, 'awaiting_approval');
    const answer = await harness.writ.approve(operationId, {
      approver: 'bob',
      reason: 'my login says so',
      proof: { kind: 'token', token: await idp.clientCredentialsToken('bob', SECRET) },
    });
    assert.equal(answer.accepted, false);
    assert.equal(
      answer.refusal,
      'the proof of identity is refused: a provider token alone does not say what was decided: decide with a key or through writ serve',
    );
    const refused = (await ledgerEvents(harness.ledger, operationId)).filter((e) => e.type === 'approval.refused');
    assert.equal(refused.length, 1);
    assert.equal((refused[0]!.payload.identity as { channel: string }).channel, 'token');
    assert.equal((await harness.writ.state(operationId)).state, 'awaiting_approval');
  });
});
