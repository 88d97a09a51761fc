import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseDirectory } from '../../src/approvals/directory.js';
import { directoryVersion } from '../../src/governance/directory.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { sha256Hex } from '../../src/verify/hash.js';
import type { ApprovalAttempt } from '../../src/model/approval.js';
import { approveUpdate } from '../../src/workflows/governed-write/messages.js';
import { approverKeyId } from '../../src/verify/decision-signature.js';
import { decodeJwt } from 'jose';
import type { CliResult } from '../support/cli.js';
import { REPO_ROOT, runCommand, runWrit } from '../support/cli.js';
import type { Ed25519Pair, TestProvider } from '../support/identity-material.js';
import {
  decisionSignature,
  ed25519,
  rawPublic,
  signedRequest,
  slackAssertion,
  ssoAssertion,
  startProvider,
} from '../support/identity-material.js';
import { keygen } from '../support/signing-key.js';
import type { WritHarness } from '../support/writ.js';
import { ledgerEvents, startWrit, updateTier, waitForState } from '../support/writ.js';

/**
 * Proofs of identity are evidence an auditor re-checks offline: the bundle carries each proof, the
 * directory it was checked against, the provider keys on record and each proof's use, and both
 * verifiers check them again. The worker host (writer login and bundle signing key) could append a
 * decision whose proof does not hold, and export it in a well-signed bundle: that is what is caught.
 */
const PYTHON_VERIFIER = join(REPO_ROOT, 'test', 'evidence', 'independent_verifier.py');
const alice = ed25519();
const bob = ed25519();
const channel = ed25519();
const SLACK = { team: 'T0WRIT', user: 'U0CAROL' };
const policy = {
  id: 'identity-evidence',
  rules: [
    {
      name: 'acme-needs-two-managers',
      match: { connector: 'postgres', target: 'public.accounts/42' },
      risk: 'high',
      approvals: { required: 3, fromGroups: ['managers'] },
    },
  ],
};

function directory(provider: { issuer: string; jwksUri: string }, channelKey: Ed25519Pair = channel) {
  return {
    approvers: [
      { id: 'bob', groups: ['managers'], publicKey: rawPublic(bob.publicKey) },
      { id: 'carol', groups: ['managers'], slack: [SLACK] },
      { id: 'dave', groups: ['managers'], logins: [{ issuer: provider.issuer, subject: 'user-dave' }] },
    ],
    requesters: [
      { id: 'alice', groups: ['sales-ops'], publicKey: rawPublic(alice.publicKey) },
      { id: 'deploy-bot', kind: 'service' as const, logins: [{ issuer: provider.issuer, subject: 'svc-deploy' }] },
    ],
    identityProviders: [{ issuer: provider.issuer, audiences: ['writ'], jwksUri: provider.jwksUri }],
    channels: [{ name: 'writ-serve', publicKey: rawPublic(channelKey.publicKey) }],
    slackTeams: [SLACK.team],
  };
}

interface Verdict {
  findings: Array<{ code: string; file: string; seq?: number; problem: string }>;
  warnings: string[];
  notices: Array<{ code: string; seq: number; problem: string }>;
  identity: { verified: number; notVerified: number; channelKeysPinned: boolean };
}

interface Auditor {
  env: NodeJS.ProcessEnv;
  dir: string;
  verifierKey: string;
  channelKeyFile: string;
  export(operationId: string, name: string): Promise<string>;
  verify(bundle: string, more?: string[]): Promise<CliResult & { verdict: Verdict }>;
  python(bundle: string, more?: string[]): Promise<CliResult>;
}

async function auditor(harness: WritHarness): Promise<Auditor> {
  const dir = mkdtempSync(join(tmpdir(), 'writ-identity-bundle-'));
  const { verifierKey, env: signing } = await keygen(dir);
  const env = {
    DATABASE_URL: harness.ledger.url,
    ...signing,
    WRIT_ANCHOR_DIR: join(dir, 'anchors'),
    WRIT_VERIFIER_KEY: '',
  };
  const channelKeyFile = join(dir, 'channel.pub');
  writeFileSync(channelKeyFile, `${rawPublic(channel.publicKey)}\n`);
  return {
    env,
    dir,
    verifierKey,
    channelKeyFile,
    export: async (operationId, name) => {
      const out = join(dir, name);
      const exported = await runWrit(['export', operationId, '--out', out], { env });
      assert.equal(exported.code, 0, exported.stderr);
      return out;
    },
    verify: async (bundle, more = []) => {
      const result = await runWrit(['verify-bundle', bundle, '--verifier-key', verifierKey, ...more, '--json'], {
        env,
      });
      return { ...result, verdict: JSON.parse(result.stdout) as Verdict };
    },
    python: (bundle, more = []) =>
      runCommand('python3', [PYTHON_VERIFIER, bundle, '--verifier-key', verifierKey, ...more]),
  };
}

/** An approval with its proof, sent as any Temporal client can send it. */
function approve(harness: WritHarness, operationId: string, attempt: ApprovalAttempt) {
  return harness.writ.handle(operationId).executeUpdate(approveUpdate, { args: [attempt] });
}

/** Alice signs her request; bob approves with his key, carol with a Slack click Writ's channel asserted. */
async function provedOperation(
  harness: WritHarness,
  provider: TestProvider,
): Promise<{ operationId: string; digest: string }> {
  const { writ } = harness;
  const { operationId } = await writ.start(signedRequest(updateTier(), alice));
  await waitForState(writ, operationId, 'awaiting_approval');
  const digest = (await writ.state(operationId)).approvals.digest!;
  const signature = decisionSignature({ kind: 'approve', operationId, digest }, bob);
  const byBob = await approve(harness, operationId, {
    approver: 'bob',
    reason: 'checked',
    digest,
    proof: { kind: 'key', signature },
  });
  assert.equal(byBob.accepted, true, byBob.refusal);
  const assertion = await slackAssertion(channel, {
    channel: 'writ-serve',
    sub: 'carol',
    operationId,
    digest,
    reason: 'ok',
    ...SLACK,
  });
  const byCarol = await approve(harness, operationId, {
    approver: 'carol',
    reason: 'ok',
    digest,
    proof: { kind: 'channel', assertion },
  });
  assert.equal(byCarol.accepted, true, byCarol.refusal);
  const idToken = await provider.token('user-dave', { auth_time: Math.floor(Date.now() / 1000) - 30, nonce: 'n-1' });
  const sso = await ssoAssertion(
    channel,
    { channel: 'writ-serve', sub: 'dave', operationId, digest, reason: 'seen' },
    idToken,
  );
  const byDave = await approve(harness, operationId, {
    approver: 'dave',
    reason: 'seen',
    digest,
    proof: { kind: 'channel', assertion: sso },
  });
  assert.equal(byDave.accepted, true, byDave.refusal);
  assert.equal((await writ.result(operationId)).outcome, 'succeeded');
  return { operationId, digest };
}

/** The worker host appends a record as writ_writer would; it is exported in a well-signed bundle. */
function forge(
  harness: WritHarness,
  operationId: string,
  type: string,
  payload: Record<string, unknown>,
  round: number,
) {
  return new GroupCommitAppender(harness.ledger.pool).append({
    type,
    operationId,
    correlationId: null,
    traceparent: null,
    stepIndex: null,
    state: null,
    actor: { id: 'writ', kind: 'service', groups: [] },
    idempotencyKey: `${operationId}/${type}/-/${round}`,
    payload: payload as never,
  });
}

const codesAt = (verdict: Verdict, seq: number) => verdict.findings.filter((f) => f.seq === seq).map((f) => f.code);

describe('when requests and decisions prove who made them', () => {
  test('the bundle carries every proof and what it rests on, both verifiers re-check them offline, and a decision whose proof does not hold is caught', async (t) => {
    const provider = await startProvider();
    t.after(() => provider.close());
    const harness = await startWrit(t, { policy, approvers: directory(provider) });
    const audit = await auditor(harness);
    const { operationId, digest } = await provedOperation(harness, provider);

    const genuine = await audit.export(operationId, 'genuine');
    const checked = await audit.verify(genuine, ['--channel-key', audit.channelKeyFile]);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.deepEqual(checked.verdict.identity, { verified: 4, notVerified: 0, channelKeysPinned: true });
    assert.deepEqual(checked.verdict.notices, []);
    const py = await audit.python(genuine, ['--channel-key', audit.channelKeyFile]);
    assert.equal(py.code, 0, py.stdout + py.stderr);
    assert.match(py.stdout, /4 proof\(s\) of identity re-checked/);

    // A service's token: the provider's key goes on the record at first use and into the bundle.
    const bot = await harness.writ.start({
      ...updateTier({
        steps: [
          { connector: 'postgres', action: 'update', target: 'public.accounts/43', params: { set: { tier: 'gold' } } },
        ],
      }),
      actor: { id: 'deploy-bot', kind: 'service', groups: [] },
      identity: { kind: 'token', token: await provider.token('svc-deploy') },
    });
    assert.equal((await harness.writ.result(bot.operationId)).outcome, 'succeeded');
    const tokenBundle = await audit.export(bot.operationId, 'token');
    const tokenChecked = await audit.verify(tokenBundle);
    assert.equal(tokenChecked.code, 0, tokenChecked.stdout + tokenChecked.stderr);
    assert.equal(tokenChecked.verdict.identity.verified, 1);
    const pyToken = await audit.python(tokenBundle);
    assert.equal(pyToken.code, 0, pyToken.stdout + pyToken.stderr);
    assert.match(pyToken.stdout, /1 proof\(s\) of identity re-checked/);

    // Forged by the worker host: bob's signature altered, carol's words changed under her assertion,
    // and an approval asserted by a channel key of the forger's own, under a directory listing it.
    const events = await ledgerEvents(harness.ledger, operationId);
    const granted = events.filter((e) => e.type === 'approval.granted');
    const bobs = granted.find((e) => e.payload.approver === 'bob')!.payload;
    const carols = granted.find((e) => e.payload.approver === 'carol')!.payload;
    const altered = Buffer.from(String((bobs.identity as { signature: string }).signature), 'base64');
    altered[7]! ^= 0x01;
    const badSignature = altered.toString('base64');
    const forgedKey = await forge(
      harness,
      operationId,
      'approval.granted',
      {
        ...bobs,
        identity: { ...(bobs.identity as object), signature: badSignature, proofSha256: sha256Hex(badSignature) },
      },
      91,
    );
    const forgedWords = await forge(harness, operationId, 'approval.granted', { ...carols, reason: 'other words' }, 92);
    const unproved = { ...bobs, identity: { verified: false, id: null, channel: 'asserted' }, identityVerified: false };
    const forgedUnproved = await forge(harness, operationId, 'approval.granted', unproved, 94);
    const stripped = Object.fromEntries(Object.entries(bobs).filter(([name]) => !name.startsWith('identity')));
    const forgedStripped = await forge(harness, operationId, 'approval.granted', stripped, 95);
    const forger = ed25519();
    const forgedDirectory = parseDirectory(directory(provider, forger));
    const forgedVersion = directoryVersion(forgedDirectory);
    await new GroupCommitAppender(harness.ledger.pool).append({
      type: 'governance.directory',
      operationId: null,
      correlationId: null,
      traceparent: null,
      stepIndex: null,
      state: null,
      actor: { id: 'writ', kind: 'service', groups: [] },
      idempotencyKey: `governance/directory/${forgedVersion}`,
      payload: { version: forgedVersion, directory: forgedDirectory } as never,
    });
    const assertion = await slackAssertion(forger, {
      channel: 'writ-serve',
      sub: 'carol',
      operationId,
      digest,
      reason: 'ok',
      ...SLACK,
    });
    const forgedIdentity = {
      ...(carols.identity as object),
      assertion,
      proofSha256: sha256Hex(assertion),
      keyId: approverKeyId(forger.publicKey),
      at: decodeJwt(assertion).iat,
    };
    const proofUse = { proofSha256: sha256Hex(assertion), use: 'approve', operationId };
    await new GroupCommitAppender(harness.ledger.pool).append({
      type: 'identity.proof_used',
      operationId: null,
      correlationId: null,
      traceparent: null,
      stepIndex: null,
      state: null,
      actor: { id: 'writ', kind: 'service', groups: [] },
      idempotencyKey: `identity/proof/${proofUse.proofSha256}`,
      payload: proofUse as never,
    });
    const forgedChannel = await forge(
      harness,
      operationId,
      'approval.granted',
      {
        ...carols,
        directoryVersion: forgedVersion,
        identity: forgedIdentity,
      },
      93,
    );

    const forged = await audit.export(operationId, 'forged');
    const caught = await audit.verify(forged, ['--channel-key', audit.channelKeyFile]);
    assert.equal(caught.code, 1, caught.stdout + caught.stderr);
    assert.deepEqual(codesAt(caught.verdict, forgedKey.seq), ['IDENTITY_PROOF_INVALID']);
    assert.deepEqual(codesAt(caught.verdict, forgedWords.seq), ['IDENTITY_PROOF_INVALID']);
    assert.deepEqual(codesAt(caught.verdict, forgedChannel.seq), ['CHANNEL_KEY_NOT_PINNED']);
    assert.deepEqual(codesAt(caught.verdict, forgedUnproved.seq), ['IDENTITY_REQUIRED']);
    assert.deepEqual(codesAt(caught.verdict, forgedStripped.seq), ['IDENTITY_REQUIRED']);
    const pyCaught = await audit.python(forged, ['--channel-key', audit.channelKeyFile]);
    assert.equal(pyCaught.code, 1, pyCaught.stdout + pyCaught.stderr);
    for (const seq of [forgedKey.seq, forgedWords.seq, forgedChannel.seq])
      assert.match(
        pyCaught.stdout,
        new RegExp(`records.jsonl seq ${seq}: approve of ${operationId}: `),
        pyCaught.stdout,
      );
    assert.match(
      pyCaught.stdout,
      new RegExp(`records.jsonl seq ${forgedUnproved.seq}: approve by bob: went on with an identity not verified`),
    );
    assert.match(
      pyCaught.stdout,
      new RegExp(`records.jsonl seq ${forgedStripped.seq}: approve by bob: went on with an identity not on the record`),
    );
    // Without the pinned channel key the forger's own channel passes: the auditor is told so.
    const unpinned = await audit.verify(forged);
    assert.deepEqual(codesAt(unpinned.verdict, forgedChannel.seq), []);
    assert.ok(
      unpinned.verdict.warnings.some((w) => w.includes('--channel-key')),
      unpinned.stdout,
    );
  });
});
