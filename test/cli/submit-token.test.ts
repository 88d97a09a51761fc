import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startIdentityProvider } from '../../src/devstack/identity-provider.js';
import type { DevIdentityProvider } from '../../src/devstack/identity-provider.js';
import { runWrit } from '../support/cli.js';
import { operatorMachine } from '../support/cli-identity.js';
import { refusedAtPlan } from '../support/identity.js';
import { ledgerEvents, updateTier } from '../support/writ.js';

/**
 * A service submits through the CLI with a token from the identity provider: fetched by
 * `--token-from` with its client credentials, or handed over with `--token @file` or WRIT_TOKEN.
 */

const SECRET = 'deploy-bot-secret-0123456789';
const policy = { id: 'proved', rules: [] };

async function provider(t: { after: (fn: () => Promise<void>) => void }): Promise<DevIdentityProvider> {
  const idp = await startIdentityProvider({
    people: [],
    clients: [{ clientId: 'deploy-bot', clientSecret: SECRET, grant: 'client_credentials' }],
  });
  t.after(() => idp.close());
  return idp;
}

const directoryTrusting = (idp: DevIdentityProvider) => ({
  approvers: [{ id: 'bob', groups: ['managers'] }],
  requesters: [
    {
      id: 'deploy-bot',
      kind: 'service',
      groups: ['deployers'],
      logins: [{ issuer: idp.issuer, subject: 'deploy-bot' }],
    },
  ],
  identityProviders: [{ issuer: idp.issuer, audiences: [idp.audience] }],
});

async function actorOf(machine: { ledger: Parameters<typeof ledgerEvents>[0] }, operationId: string) {
  const planned = (await ledgerEvents(machine.ledger, operationId)).find((e) => e.type === 'operation.planned')!;
  return (planned.payload.envelope as { actor: object }).actor;
}

const deployBot = { id: 'deploy-bot', kind: 'service', groups: ['deployers'], identity: 'verified' };

describe('when a service submits with writ submit --token-from its identity provider', () => {
  test('the CLI gets a client-credentials token and the write runs as the service', async (t) => {
    const idp = await provider(t);
    const machine = await operatorMachine(t, policy, directoryTrusting(idp));
    const env = { ...machine.env, WRIT_CLIENT_ID: 'deploy-bot', WRIT_CLIENT_SECRET: SECRET };
    const request = machine.file('deploy.json', updateTier({ operationId: 'op-token-from' }));
    const result = await runWrit(['submit', request, '--token-from', idp.issuer, '--wait'], { env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /closed: succeeded/);
    assert.deepEqual(await actorOf(machine, 'op-token-from'), deployBot);

    const wrongSecret = await runWrit(['submit', request, '--token-from', idp.issuer], {
      env: { ...env, WRIT_CLIENT_SECRET: 'not-the-secret' },
    });
    assert.equal(wrongSecret.code, 2, wrongSecret.stderr);
    assert.match(
      wrongSecret.stderr,
      new RegExp(`the identity provider ${idp.issuer} gave no token to client deploy-bot: invalid_client`),
    );

    const nowhere = await runWrit(['submit', request, '--token-from', 'http://127.0.0.1:9/'], { env });
    assert.equal(nowhere.code, 2, nowhere.stderr);
    assert.match(
      nowhere.stderr,
      /cannot discover the identity provider http:\/\/127\.0\.0\.1:9\/: .*check the issuer URL/,
    );
  });
});

describe('when a service hands the CLI a token it got itself', () => {
  test('--token @file and WRIT_TOKEN prove the service; the same token on a second request is refused', async (t) => {
    const idp = await provider(t);
    const machine = await operatorMachine(t, policy, directoryTrusting(idp));
    const { env } = machine;
    const tokenFile = machine.file('token', `${await idp.clientCredentialsToken('deploy-bot', SECRET)}\n`);
    const fromFile = await runWrit(
      [
        'submit',
        machine.file('a.json', updateTier({ operationId: 'op-token-file' })),
        '--token',
        `@${tokenFile}`,
        '--wait',
      ],
      { env },
    );
    assert.equal(fromFile.code, 0, fromFile.stdout + fromFile.stderr);
    assert.deepEqual(await actorOf(machine, 'op-token-file'), deployBot);

    const token = await idp.clientCredentialsToken('deploy-bot', SECRET);
    const fromEnv = await runWrit(
      ['submit', machine.file('b.json', updateTier({ operationId: 'op-token-env' })), '--wait'],
      { env: { ...env, WRIT_TOKEN: token } },
    );
    assert.equal(fromEnv.code, 0, fromEnv.stdout + fromEnv.stderr);
    assert.deepEqual(await actorOf(machine, 'op-token-env'), deployBot);

    const replayed = await runWrit(
      ['submit', machine.file('c.json', updateTier({ operationId: 'op-token-again' }, 'bronze')), '--wait'],
      { env: { ...env, WRIT_TOKEN: token } },
    );
    assert.equal(replayed.code, 1, replayed.stdout + replayed.stderr);
    assert.match(replayed.stdout, /closed: invalid/);
    assert.equal(
      (await refusedAtPlan(machine.ledger, 'op-token-again')).problem,
      "the request's proof of identity is refused: the proof was already used (request of op-token-env): a proof counts once",
    );
  });
});
