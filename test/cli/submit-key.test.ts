import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runWrit } from '../support/cli.js';
import { operatorMachine } from '../support/cli-identity.js';
import { ed25519, rawPublic, refusedAtPlan, tierOf } from '../support/identity.js';
import { ledgerEvents, updateTier, waitFor } from '../support/writ.js';

/** `writ submit --key` and `writ approve --key` as an operator runs them, against `writ worker`, default policy. */

const keys = { alice: ed25519(), bob: ed25519(), mallory: ed25519() };
const directory = {
  approvers: [{ id: 'bob', groups: ['managers'], publicKey: rawPublic(keys.bob.publicKey) }],
  requesters: [
    { id: 'alice', groups: ['sales-ops'], publicKey: rawPublic(keys.alice.publicKey) },
    { id: 'mallory', groups: ['interns'], publicKey: rawPublic(keys.mallory.publicKey) },
  ],
};
const policy = {
  id: 'proved',
  rules: [
    {
      name: 'tier-needs-a-manager',
      match: { target: 'public.accounts/*' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'] },
    },
  ],
};

async function statusOf(env: Record<string, string>, operationId: string): Promise<{ state: string }> {
  const shown = await runWrit(['status', operationId, '--json'], { env });
  return shown.code === 0 ? JSON.parse(shown.stdout) : { state: '' };
}

describe('when alice submits with --key and bob approves with --key', () => {
  test('the request runs as verified alice and bob’s approval is recorded as proved by key', async (t) => {
    const machine = await operatorMachine(t, policy, directory);
    const { env } = machine;
    const request = machine.file('raise.json', updateTier({ operationId: 'op-cli-key-1' }));
    const submitted = await runWrit(['submit', request, '--key', machine.keyFile('alice.key', keys.alice)], { env });
    assert.equal(submitted.code, 0, submitted.stdout + submitted.stderr);
    assert.match(submitted.stdout, /submitted: operation op-cli-key-1/);
    await waitFor('awaiting approval', async () => (await statusOf(env, 'op-cli-key-1')).state === 'awaiting_approval');

    const unproved = await runWrit(['approve', 'op-cli-key-1', '--as', 'bob', '--reason', 'no key'], { env });
    assert.equal(unproved.code, 1);
    assert.match(
      unproved.stderr,
      /approval refused for op-cli-key-1: policy requires a verified identity for decisions/,
    );

    const bobKey = machine.keyFile('bob.key', keys.bob);
    const approved = await runWrit(['approve', 'op-cli-key-1', '--as', 'bob', '--reason', 'renewal', '--key', bobKey], {
      env,
    });
    assert.equal(approved.code, 0, approved.stdout + approved.stderr);
    assert.match(approved.stdout, /approval accepted for op-cli-key-1/);
    await waitFor('the operation to close', async () =>
      (await ledgerEvents(machine.ledger, 'op-cli-key-1')).some((event) => event.type === 'operation.closed'),
    );
    const events = await ledgerEvents(machine.ledger, 'op-cli-key-1');
    const planned = events.find((event) => event.type === 'operation.planned')!;
    assert.deepEqual((planned.payload.envelope as { actor: object }).actor, {
      id: 'alice',
      kind: 'user',
      groups: ['sales-ops'],
      identity: 'verified',
    });
    const granted = events.find((event) => event.type === 'approval.granted')!;
    assert.equal((granted.payload.identity as { channel: string }).channel, 'key');
    assert.equal(granted.payload.identityVerified, true);
    assert.equal(events.find((event) => event.type === 'operation.closed')?.payload.outcome, 'succeeded');
    assert.equal(await tierOf(machine.ledger), 'gold');
  });
});

describe('when bob rejects with writ reject --key', () => {
  test('the rejection is proved by his key and closes the operation; without the key it is refused', async (t) => {
    const machine = await operatorMachine(t, policy, directory);
    const { env } = machine;
    const request = machine.file('raise.json', updateTier({ operationId: 'op-cli-reject' }));
    const alice = machine.keyFile('alice.key', keys.alice);
    assert.equal((await runWrit(['submit', request, '--key', alice], { env })).code, 0);
    await waitFor(
      'awaiting approval',
      async () => (await statusOf(env, 'op-cli-reject')).state === 'awaiting_approval',
    );
    const unproved = await runWrit(['reject', 'op-cli-reject', '--as', 'bob', '--reason', 'no'], { env });
    assert.equal(unproved.code, 1);
    assert.match(unproved.stderr, /rejection refused for op-cli-reject: policy requires a verified identity/);
    const bobKey = machine.keyFile('bob.key', keys.bob);
    const rejected = await runWrit(['reject', 'op-cli-reject', '--as', 'bob', '--reason', 'not now', '--key', bobKey], {
      env,
    });
    assert.equal(rejected.code, 0, rejected.stdout + rejected.stderr);
    await waitFor('the operation to close', async () =>
      (await ledgerEvents(machine.ledger, 'op-cli-reject')).some((event) => event.type === 'operation.closed'),
    );
    const events = await ledgerEvents(machine.ledger, 'op-cli-reject');
    const rejection = events.find((event) => event.type === 'approval.rejected')!;
    assert.equal((rejection.payload.identity as { channel: string }).channel, 'key');
    assert.equal(events.find((event) => event.type === 'operation.closed')?.payload.outcome, 'rejected');
    assert.equal(await tierOf(machine.ledger), 'silver');
  });
});

describe('when a request is submitted without a proof, or with someone else’s key', () => {
  test('each is refused at plan and recorded; submit --wait exits 1 and nothing is written', async (t) => {
    const machine = await operatorMachine(t, policy, directory);
    const { env } = machine;
    const bare = await runWrit(
      ['submit', machine.file('bare.json', updateTier({ operationId: 'op-bare' })), '--wait'],
      {
        env,
      },
    );
    assert.equal(bare.code, 1, bare.stdout + bare.stderr);
    assert.match(bare.stdout, /closed: invalid/);
    assert.match((await refusedAtPlan(machine.ledger, 'op-bare')).problem, /requires a verified identity for requests/);

    const malloryKey = machine.keyFile('mallory.key', keys.mallory);
    const forged = await runWrit(
      ['submit', machine.file('forged.json', updateTier({ operationId: 'op-forged' })), '--key', malloryKey, '--wait'],
      { env },
    );
    assert.equal(forged.code, 1, forged.stdout + forged.stderr);
    assert.equal(
      (await refusedAtPlan(machine.ledger, 'op-forged')).problem,
      "the request's proof of identity is refused: the signature does not verify against alice's key",
    );
    assert.equal(await tierOf(machine.ledger), 'silver');
  });
});

describe('when writ submit is given proofs it cannot use', () => {
  test('two proofs, an unreadable key, an empty token and --token-from without credentials are usage errors', async () => {
    const request = join(mkdtempSync(join(tmpdir(), 'writ-submit-usage-')), 'request.json');
    writeFileSync(request, JSON.stringify(updateTier()));
    const cases: Array<[string[], RegExp, NodeJS.ProcessEnv?]> = [
      [['--key', '/nonexistent/alice.key', '--token', 'a.b.c'], /give one of --key, --token and --token-from/],
      [['--key', '/nonexistent/alice.key'], /cannot use the signing key \/nonexistent\/alice.key/],
      [['--token', '@/nonexistent/token'], /cannot read the token file \/nonexistent\/token \(--token\)/],
      [['--token', '  '], /--token is empty/],
      [
        ['--token-from', 'https://login.example.com'],
        /--token-from needs the service's client credentials in WRIT_CLIENT_ID and WRIT_CLIENT_SECRET/,
        { WRIT_CLIENT_ID: '', WRIT_CLIENT_SECRET: '' },
      ],
      [
        ['--token-from', 'http://login.example.com'],
        /the issuer must be https \(plain http only on localhost\), or the client secret travels in the clear/,
        { WRIT_CLIENT_ID: 'deploy-bot', WRIT_CLIENT_SECRET: 'secret' },
      ],
    ];
    for (const [flags, message, env] of cases) {
      const result = await runWrit(['submit', request, ...flags], { env: env ?? {} });
      assert.equal(result.code, 2, `${flags.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, flags.join(' '));
    }
  });
});
