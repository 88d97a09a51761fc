import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { verifyBundle } from '../../src/verify/bundle/verify.js';
import { directoryVersion } from '../../src/governance/directory.js';
import { parseDirectory } from '../../src/approvals/directory.js';
import { parseVerifierKey } from '../../src/verify/note.js';
import { loadedPolicy } from '../../src/policy/load.js';
import { REPO_ROOT, runCommand, runWrit } from '../support/cli.js';
import { keygen } from '../support/signing-key.js';
import type { WritHarness } from '../support/writ.js';
import { ledgerEvents, startWrit, updateTier, waitForState } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

const OPEN = { id: 'gov', identity: ASSERTED_IDENTITIES, rules: [] };
const GATED = {
  id: 'gov',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'accounts-need-a-manager',
      match: { connector: 'postgres', target: 'public.accounts/*' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'] },
    },
    { name: 'contractors-are-critical', match: { actorGroups: ['contractors'] }, risk: 'critical' },
  ],
};
const BOB_ONLY = { approvers: [{ id: 'bob', groups: ['managers'] }] };
const WITH_CAROL = {
  approvers: [
    { id: 'bob', groups: ['managers'] },
    { id: 'carol', groups: ['managers'] },
  ],
  requesters: [{ id: 'alice', groups: ['contractors'] }],
};

const revisionOf = (policy: object) => loadedPolicy(policy).revision;
const versionOf = (directory: object) => directoryVersion(parseDirectory(directory));

async function governanceRecords(
  harness: WritHarness,
): Promise<Array<{ type: string; key: string; payload: Record<string, unknown> }>> {
  const result = await harness.ledger.pool.query(
    `SELECT record->>'type' AS type, idempotency_key AS key, record->'payload' AS payload FROM writ.records WHERE record->>'type' LIKE 'governance.%' ORDER BY seq`,
  );
  return result.rows;
}

async function decisionOf(
  harness: WritHarness,
  operationId: string,
): Promise<{ policyRevision: string; directoryVersion: string; matchedRules: string[] }> {
  return (await ledgerEvents(harness.ledger, operationId)).find((e) => e.type === 'policy.decided')!.payload
    .decision as never;
}

/** Rewrites a file the way an editor does. */
function edit(path: string, content: object): void {
  writeFileSync(path, JSON.stringify(content, null, 2));
}

describe('when the policy file and the directory of people are edited while a worker runs', () => {
  test('the next operation is decided under the new ones, each revision and version is recorded once (across workers), and the bundle carries them', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'writ-governance-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const policyFile = join(dir, 'policy.json');
    const directoryFile = join(dir, 'people.json');
    edit(policyFile, OPEN);
    edit(directoryFile, BOB_ONLY);
    const harness = await startWrit(t, { policy: policyFile, approvers: directoryFile });
    const { writ } = harness;

    // Open policy: runs straight through, under revision 1 and directory version 1, both on the record.
    const first = (await writ.start(updateTier())).operationId;
    assert.equal((await writ.result(first)).outcome, 'succeeded');
    assert.deepEqual(await decisionOf(harness, first).then((d) => [d.policyRevision, d.directoryVersion]), [
      revisionOf(OPEN),
      versionOf(BOB_ONLY),
    ]);

    // The policy now gates accounts: the next operation waits, without a restart.
    edit(policyFile, GATED);
    const second = (await writ.start(updateTier({}, 'platinum'))).operationId;
    await waitForState(writ, second, 'awaiting_approval');
    const decided = await decisionOf(harness, second);
    assert.equal(decided.policyRevision, revisionOf(GATED));
    assert.deepEqual(decided.matchedRules, ['accounts-need-a-manager']);

    // carol is not in the directory yet; once she is, her approval counts, without a restart.
    assert.equal((await writ.approve(second, { approver: 'carol', reason: 'looks right' })).accepted, false);
    edit(directoryFile, WITH_CAROL);
    assert.equal((await writ.approve(second, { approver: 'carol', reason: 'looks right' })).accepted, true);
    assert.equal((await writ.result(second)).outcome, 'succeeded');

    const third = (await writ.start(updateTier({}, 'gold'))).operationId;
    await waitForState(writ, third, 'awaiting_approval');
    // The directory now lists alice as a contractor: the next decision sees it.
    const thirdDecision = await decisionOf(harness, third);
    assert.equal(thirdDecision.directoryVersion, versionOf(WITH_CAROL));
    assert.deepEqual(thirdDecision.matchedRules, ['accounts-need-a-manager', 'contractors-are-critical']);

    // A new worker (its own memory empty) uses the same revision and version: nothing is recorded twice.
    await harness.stopWorker();
    await harness.startWorker();
    const fourth = (await writ.start(updateTier({ mode: 'dry-run' }))).operationId;
    assert.equal((await writ.result(fourth)).outcome, 'dry_run');

    const records = await governanceRecords(harness);
    assert.deepEqual(
      records.map((r) => r.key),
      [
        `governance/policy/${revisionOf(OPEN)}`,
        `governance/directory/${versionOf(BOB_ONLY)}`,
        `governance/policy/${revisionOf(GATED)}`,
        `governance/directory/${versionOf(WITH_CAROL)}`,
      ],
    );
    const gated = records.find((r) => r.key === `governance/policy/${revisionOf(GATED)}`)!;
    assert.equal(gated.type, 'governance.policy');
    assert.deepEqual(gated.payload.policy, loadedPolicy(GATED).policy, 'the policy text itself, not only its hash');
    assert.deepEqual(
      records.find((r) => r.key === `governance/directory/${versionOf(WITH_CAROL)}`)!.payload.directory,
      parseDirectory(WITH_CAROL),
    );

    // The bundle of the second operation carries the policy and the directory it was decided under.
    const { verifierKey, env: signing } = await keygen(dir);
    const env = {
      DATABASE_URL: harness.ledger.url,
      ...signing,
      WRIT_ANCHOR_DIR: join(dir, 'anchors'),
      WRIT_VERIFIER_KEY: '',
    };
    const out = join(dir, 'bundle');
    const exported = await runWrit(['export', second, '--out', out], { env });
    assert.equal(exported.code, 0, exported.stdout + exported.stderr);
    const policyFileName = `governance.policy.${revisionOf(GATED).slice(7)}.json`;
    const directoryFileName = `governance.directory.${versionOf(BOB_ONLY).slice(7)}.json`;
    assert.ok(readdirSync(out).includes(policyFileName), `no ${policyFileName} in ${readdirSync(out).join(', ')}`);
    assert.deepEqual(JSON.parse(readFileSync(join(out, policyFileName), 'utf8')), loadedPolicy(GATED).policy);
    assert.deepEqual(
      JSON.parse(readFileSync(join(out, directoryFileName), 'utf8')),
      parseDirectory(BOB_ONLY),
      'the directory as it was when the operation was decided',
    );
    // Each decision names the directory that judged it: carol was refused under the old one and
    // approved under the one that lists her, and the bundle carries that one too.
    const decisions = (await ledgerEvents(harness.ledger, second)).filter(
      (e) => e.type === 'approval.refused' || e.type === 'approval.granted',
    );
    assert.deepEqual(
      decisions.map((e) => [e.type, e.payload.directoryVersion]),
      [
        ['approval.refused', versionOf(BOB_ONLY)],
        ['approval.granted', versionOf(WITH_CAROL)],
      ],
    );
    assert.deepEqual(
      JSON.parse(readFileSync(join(out, `governance.directory.${versionOf(WITH_CAROL).slice(7)}.json`), 'utf8')),
      parseDirectory(WITH_CAROL),
      'the directory the approval was judged under',
    );
    const verified = await runWrit(['verify-bundle', out, '--verifier-key', verifierKey], { env });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const python = await runCommand('python3', [
      join(REPO_ROOT, 'test', 'evidence', 'independent_verifier.py'),
      out,
      '--verifier-key',
      verifierKey,
    ]);
    assert.equal(python.code, 0, python.stdout + python.stderr);

    // A bundle whose governance is swapped for other governance is caught, by name.
    const files = new Map(readdirSync(out).map((name) => [name, readFileSync(join(out, name))]));
    files.set(policyFileName, Buffer.from(JSON.stringify(loadedPolicy(OPEN).policy)));
    const verdict = await verifyBundle(files, { verifierKey: parseVerifierKey(verifierKey) });
    assert.ok(
      verdict.findings.some((f) => f.file === policyFileName && /is not the policy revision/.test(f.problem)),
      JSON.stringify(verdict.findings),
    );
    writeFileSync(join(out, policyFileName), files.get(policyFileName)!);
    const pyBad = await runCommand('python3', [
      join(REPO_ROOT, 'test', 'evidence', 'independent_verifier.py'),
      out,
      '--verifier-key',
      verifierKey,
    ]);
    assert.equal(pyBad.code, 1);
    assert.match(
      pyBad.stdout,
      new RegExp(
        `${policyFileName.replace(/\./g, '\\.')}( seq \\d+)?: its SHA-256 is not the revision the records name`,
      ),
    );
  });
});
