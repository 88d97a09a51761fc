import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { canonicalBytes } from '../../src/verify/canonical.js';
import { sha256Hex } from '../../src/verify/hash.js';
import { verifyBundle } from '../../src/verify/bundle/verify.js';
import { parseVerifierKey } from '../../src/verify/note.js';
import type { CliResult } from '../support/cli.js';
import { REPO_ROOT, runCommand, runWrit } from '../support/cli.js';
import { ed25519, rawPublic, signedRequest, startProvider } from '../support/identity-material.js';
import { keygen } from '../support/signing-key.js';
import type { WritHarness } from '../support/writ.js';
import { startWrit, updateTier, waitForState } from '../support/writ.js';

/**
 * What a bundle says about identities is checked against the proofs it carries, whoever changed
 * it: a request signature or a provider key altered in the bundle is named by its record, and an
 * operation whose policy let identities be asserted says "identity not verified" without failing.
 */
const PYTHON_VERIFIER = join(REPO_ROOT, 'test', 'evidence', 'independent_verifier.py');
const GLOBEX = [
  { connector: 'postgres', action: 'update', target: 'public.accounts/43', params: { set: { tier: 'gold' } } },
];

/** One log signing key for every export of a test, as one log has. */
async function exporter(harness: WritHarness) {
  const dir = mkdtempSync(join(tmpdir(), 'writ-identity-tamper-'));
  const { verifierKey, env: signing } = await keygen(dir);
  const env = {
    DATABASE_URL: harness.ledger.url,
    ...signing,
    WRIT_ANCHOR_DIR: join(dir, 'anchors'),
    WRIT_VERIFIER_KEY: '',
  };
  return { dir, env, verifierKey };
}

async function exported(setup: { dir: string; env: NodeJS.ProcessEnv; verifierKey: string }, operationId: string) {
  const { dir, env, verifierKey } = setup;
  const out = join(dir, operationId);
  const made = await runWrit(['export', operationId, '--out', out], { env });
  assert.equal(made.code, 0, made.stderr);
  const files = new Map(readdirSync(out).map((name) => [name, readFileSync(join(out, name))]));
  return { dir, out, env, verifierKey, files };
}

type Json = Record<string, unknown>;

/** The bundle with one record's JSON changed in records.jsonl (its hash left as it was). */
function rewritten(files: Map<string, Buffer>, find: (record: Json) => boolean, change: (record: Json) => void) {
  let seq = 0;
  const lines = files
    .get('records.jsonl')!
    .toString('utf8')
    .trimEnd()
    .split('\n')
    .map((text) => {
      const line = JSON.parse(text) as { seq: number; canonical: string };
      const record = JSON.parse(Buffer.from(line.canonical, 'base64').toString('utf8')) as Json;
      if (!find(record)) return text;
      seq = line.seq;
      change(record);
      return JSON.stringify({ ...line, canonical: canonicalBytes(record).toString('base64') });
    });
  assert.ok(seq, 'the record to change is in the bundle');
  return { files: new Map(files).set('records.jsonl', Buffer.from(`${lines.join('\n')}\n`)), seq };
}

function python(dir: string, files: Map<string, Buffer>, verifierKey: string): Promise<CliResult> {
  mkdirSync(dir);
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  return runCommand('python3', [PYTHON_VERIFIER, dir, '--verifier-key', verifierKey]);
}

const identityOf = (record: Json) => (record.payload as { identity: Json }).identity;

describe('when a bundle is changed where identities are proved', () => {
  test('an altered request signature and an altered provider key are each caught at their record, by both verifiers', async (t) => {
    const provider = await startProvider();
    t.after(() => provider.close());
    const alice = ed25519();
    const harness = await startWrit(t, {
      policy: { id: 'identity-tamper', rules: [] },
      approvers: {
        approvers: [],
        requesters: [
          { id: 'alice', groups: ['sales-ops'], publicKey: rawPublic(alice.publicKey) },
          { id: 'deploy-bot', kind: 'service', logins: [{ issuer: provider.issuer, subject: 'svc-deploy' }] },
        ],
        identityProviders: [{ issuer: provider.issuer, audiences: ['writ'], jwksUri: provider.jwksUri }],
      },
    });
    const signed = await harness.writ.start(signedRequest(updateTier({ steps: GLOBEX }), alice));
    assert.equal((await harness.writ.result(signed.operationId)).outcome, 'succeeded');
    const token = await harness.writ.start({
      ...updateTier({ steps: GLOBEX }),
      actor: { id: 'deploy-bot', kind: 'service', groups: [] },
      identity: { kind: 'token', token: await provider.token('svc-deploy') },
    });
    assert.equal((await harness.writ.result(token.operationId)).outcome, 'succeeded');

    const setup = await exporter(harness);
    const keyed = await exported(setup, signed.operationId);
    const key = parseVerifierKey(keyed.verifierKey);
    assert.equal((await verifyBundle(keyed.files, { verifierKey: key })).identity.verified, 1);
    const badSignature = rewritten(
      keyed.files,
      (r) => r.type === 'operation.planned',
      (r) => {
        const forged = Buffer.alloc(64, 7).toString('base64');
        Object.assign(identityOf(r), { signature: forged, proofSha256: sha256Hex(forged) });
      },
    );
    const caught = await verifyBundle(badSignature.files, { verifierKey: key });
    const atPlanned = caught.findings.filter((f) => f.seq === badSignature.seq && f.code.startsWith('IDENTITY'));
    assert.deepEqual(
      atPlanned.map((f) => f.code),
      ['IDENTITY_PROOF_INVALID'],
      JSON.stringify(caught.findings),
    );
    const py = await python(join(keyed.dir, 'bad-signature'), badSignature.files, keyed.verifierKey);
    assert.equal(py.code, 1);
    assert.match(
      py.stdout,
      new RegExp(`seq ${badSignature.seq}: request of ${signed.operationId}: the signature does not verify`),
    );

    const tokened = await exported(setup, token.operationId);
    assert.equal((await verifyBundle(tokened.files, { verifierKey: key })).ok, true);
    const badKey = rewritten(
      tokened.files,
      (r) => r.type === 'governance.identity_key',
      (r) => {
        const jwk = (r.payload as { jwk: Json }).jwk;
        jwk.n = `${String(jwk.n).slice(0, -4)}AAAA`;
      },
    );
    const keyCaught = await verifyBundle(badKey.files, { verifierKey: key });
    const identityFindings = keyCaught.findings.filter((f) => /^IDENTITY/.test(f.code)).map((f) => [f.code, f.seq]);
    assert.equal(identityFindings[0]?.[0], 'IDENTITY_KEY_INVALID');
    assert.equal(identityFindings[0]?.[1], badKey.seq);
    assert.equal(identityFindings[1]?.[0], 'IDENTITY_KEY_NOT_RECORDED', JSON.stringify(identityFindings));
    const pyKey = await python(join(tokened.dir, 'bad-key'), badKey.files, tokened.verifierKey);
    assert.equal(pyKey.code, 1);
    assert.match(pyKey.stdout, new RegExp(`seq ${badKey.seq}: governance.identity_key: the key's RFC 7638 thumbprint`));
    assert.match(pyKey.stdout, new RegExp(`request of ${token.operationId}: no key of`));
  });

  test('an operation whose policy lets identities be asserted verifies, and says "identity not verified" for the request and the approval', async (t) => {
    const harness = await startWrit(t, {
      policy: {
        id: 'asserted',
        identity: { requests: 'asserted', decisions: 'asserted' },
        rules: [
          {
            name: 'acme-needs-a-manager',
            match: { connector: 'postgres', target: 'public.accounts/42' },
            risk: 'high',
            approvals: { required: 1, fromGroups: ['managers'] },
          },
        ],
      },
      approvers: { approvers: [{ id: 'bob', groups: ['managers'] }] },
    });
    const { operationId } = await harness.writ.start(updateTier());
    await waitForState(harness.writ, operationId, 'awaiting_approval');
    assert.equal((await harness.writ.approve(operationId, { approver: 'bob', reason: 'fine' })).accepted, true);
    assert.equal((await harness.writ.result(operationId)).outcome, 'succeeded');

    const { out, env, verifierKey } = await exported(await exporter(harness), operationId);
    const text = await runWrit(['verify-bundle', out, '--verifier-key', verifierKey], { env });
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(text.stdout, /notice: record \d+: identity not verified: requester alice was asserted, not proved/);
    assert.match(text.stdout, /notice: record \d+: identity not verified: approve by bob was asserted, not proved/);
    assert.match(text.stdout, /2 request\(s\) or decision\(s\) with identity not verified/);
    const json = JSON.parse(
      (await runWrit(['verify-bundle', out, '--verifier-key', verifierKey, '--json'], { env })).stdout,
    );
    assert.deepEqual(
      json.notices.map((n: { code: string }) => n.code),
      ['IDENTITY_NOT_VERIFIED', 'IDENTITY_NOT_VERIFIED'],
    );
    assert.deepEqual(json.findings, []);
    const py = await runCommand('python3', [PYTHON_VERIFIER, out, '--verifier-key', verifierKey]);
    assert.equal(py.code, 0, py.stdout + py.stderr);
    assert.match(py.stdout, /notice: seq \d+: identity not verified: requester alice was asserted/);
    assert.match(py.stdout, /notice: seq \d+: identity not verified: approve by bob was asserted/);
  });
});
