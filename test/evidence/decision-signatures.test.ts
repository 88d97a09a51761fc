import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { decisionMessage } from '../../src/verify/decision-signature.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import type { CliResult } from '../support/cli.js';
import { REPO_ROOT, runCommand, runWrit } from '../support/cli.js';
import { keygen } from '../support/signing-key.js';
import { ledgerEvents, startWrit, updateTier, waitForState } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

/**
 * A signed approval is evidence an auditor re-checks with the approver's key they pinned, not the
 * worker's word that it verified: the worker host holds the writer login and the bundle signing
 * key, so it could append an approval nobody signed and export it in a well-signed bundle.
 */

const PYTHON_VERIFIER = join(REPO_ROOT, 'test', 'evidence', 'independent_verifier.py');
const bob = generateKeyPairSync('ed25519');
const rawPublic = (key: typeof bob.publicKey) =>
  Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
const bobKeyId = createHash('sha256')
  .update(Buffer.from(bob.publicKey.export({ format: 'jwk' }).x!, 'base64url'))
  .digest('hex');
const approvers = { approvers: [{ id: 'bob', groups: ['managers'], publicKey: rawPublic(bob.publicKey) }] };
const policy = {
  id: 'signed-approvals',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'tier-changes-need-a-signed-manager',
      match: { connector: 'postgres', target: 'public.accounts/*' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], signed: true },
    },
  ],
};

interface BundleJson {
  findings: Array<{ code: string; file: string; seq?: number }>;
  warnings: string[];
  decisionSignatures: { signed: number; checked: boolean };
}

/** `writ verify-bundle --json`: the exit code and the verdict. */
async function verifyJson(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult & { verdict: BundleJson }> {
  const result = await runWrit(['verify-bundle', ...args, '--json'], { env });
  return { ...result, verdict: JSON.parse(result.stdout) as BundleJson };
}

function python(args: string[]): Promise<CliResult> {
  return runCommand('python3', [PYTHON_VERIFIER, ...args]);
}

describe('when an approval was signed', () => {
  test('its signature and key id are in the ledger and the bundle; both verifiers check them against the pinned approver keys, and an altered signature fails naming the decision', async (t) => {
    const { ledger, writ } = await startWrit(t, { policy, approvers });
    const dir = mkdtempSync(join(tmpdir(), 'writ-decisions-'));
    const { verifierKey, env: signing } = await keygen(dir);
    const env = { DATABASE_URL: ledger.url, ...signing, WRIT_ANCHOR_DIR: join(dir, 'anchors'), WRIT_VERIFIER_KEY: '' };
    const pinned = join(dir, 'approvers.json');
    writeFileSync(pinned, JSON.stringify(approvers));

    const { operationId } = await writ.start(updateTier());
    await waitForState(writ, operationId, 'awaiting_approval');
    const digest = (await writ.state(operationId)).approvals.digest!;
    const signature = sign(null, decisionMessage({ kind: 'approve', operationId, digest }), bob.privateKey).toString(
      'base64',
    );
    assert.equal(
      (await writ.approve(operationId, { approver: 'bob', reason: 'signed', digest, signature })).accepted,
      true,
    );
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');

    const granted = (await ledgerEvents(ledger, operationId)).find((e) => e.type === 'approval.granted')!;
    assert.equal(granted.payload.signature, signature);
    assert.equal(granted.payload.keyId, bobKeyId);

    const genuine = join(dir, 'genuine');
    assert.equal((await runWrit(['export', operationId, '--out', genuine], { env })).code, 0);
    // One operation: one line.
    const statementLine = readFileSync(join(genuine, 'statements.intoto.jsonl'), 'utf8').trim();
    const statement = JSON.parse(Buffer.from(JSON.parse(statementLine).payload, 'base64').toString('utf8'));
    const inStatement = statement.predicate.approvals.find((a: { type: string }) => a.type === 'approval.granted');
    assert.deepEqual(
      [inStatement.signature, inStatement.keyId, inStatement.kind, inStatement.digest],
      [signature, bobKeyId, 'approve', digest],
    );

    const checked = await verifyJson([genuine, '--verifier-key', verifierKey, '--approver-keys', pinned], env);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.deepEqual(checked.verdict.decisionSignatures, { signed: 1, checked: true });
    const unpinned = await verifyJson([genuine, '--verifier-key', verifierKey], env);
    assert.deepEqual(unpinned.verdict.decisionSignatures, { signed: 1, checked: false });
    assert.ok(
      unpinned.verdict.warnings.some((w) => w.includes('not checked against pinned approver keys')),
      unpinned.stdout,
    );
    const py = await python([genuine, '--verifier-key', verifierKey, '--approver-keys', pinned]);
    assert.equal(py.code, 0, py.stdout + py.stderr);
    assert.match(py.stdout, /1 signed decision\(s\) verified against the pinned approver keys/);

    // The worker host (writer login and bundle key) appends an approval with an altered signature.
    const altered = Buffer.from(signature, 'base64');
    altered[10]! ^= 0x01;
    const forged = await new GroupCommitAppender(ledger.pool).append({
      type: 'approval.granted',
      operationId,
      correlationId: null,
      traceparent: null,
      stepIndex: null,
      state: null,
      actor: { id: 'alice', kind: 'user', groups: [] },
      idempotencyKey: `${operationId}/approval.granted/-/99`,
      payload: { ...granted.payload, signature: altered.toString('base64') },
    });
    const forgedBundle = join(dir, 'forged');
    assert.equal((await runWrit(['export', operationId, '--out', forgedBundle], { env })).code, 0);
    const caught = await verifyJson([forgedBundle, '--verifier-key', verifierKey, '--approver-keys', pinned], env);
    assert.equal(caught.code, 1, caught.stdout + caught.stderr);
    assert.deepEqual(
      caught.verdict.findings.filter((f) => f.seq === forged.seq).map((f) => [f.code, f.file]),
      [['DECISION_SIGNATURE_INVALID', 'records.jsonl']],
    );
    const pyCaught = await python([forgedBundle, '--verifier-key', verifierKey, '--approver-keys', pinned]);
    assert.equal(pyCaught.code, 1, pyCaught.stdout + pyCaught.stderr);
    assert.match(
      pyCaught.stdout,
      new RegExp(`records.jsonl seq ${forged.seq}: approval.granted by bob: the signature does not verify`),
    );
  });
});
