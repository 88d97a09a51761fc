import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readBundle } from '../../src/evidence/bundle/read.js';
import { parseVerifierKey } from '../../src/verify/note.js';
import { verifyBundle } from '../../src/verify/bundle/verify.js';
import { REPO_ROOT, runCommand, runWrit } from '../support/cli.js';
import { ACCOUNT_NAMES } from '../support/personal-data.js';
import { keygen } from '../support/signing-key.js';
import { startWrit, updateTier } from '../support/writ.js';

interface SealedJson {
  values: Array<{
    seq: number;
    pointer: string;
    commitment: string;
    state: string;
    disclosure?: { salt: string; value: unknown };
  }>;
}

describe('a bundle discloses one sealed value so an auditor can check it against its commitment', () => {
  test('export --disclose carries the value and its salt, verify-bundle checks it, and a changed value is caught', async (t) => {
    const { ledger, writ } = await startWrit(t, { personalData: ACCOUNT_NAMES });
    const started = await writ.start(updateTier());
    await writ.result(started.operationId);
    const dir = await mkdtemp(join(tmpdir(), 'writ-disclose-'));
    const { verifierKey, env: signing } = await keygen(dir);
    const env = { DATABASE_URL: ledger.url, ...signing, WRIT_ANCHOR_DIR: join(dir, 'anchors'), WRIT_VERIFIER_KEY: '' };
    const tier = await ledger.pool.query<{ commitment: string }>(
      `SELECT encode(v.commitment, 'hex') AS commitment FROM writ.sealed_values v
        WHERE v.record_type = 'step.executed' AND v.pointer = '/after/tier'`,
    );
    const commitment = tier.rows[0]!.commitment;

    const unknown = await runWrit(
      ['export', started.operationId, '--out', join(dir, 'x'), '--disclose', 'a'.repeat(64)],
      { env },
    );
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no selected record holds that commitment/);
    assert.deepEqual(await readdir(join(dir, 'x')).catch(() => []), [], 'nothing written');

    const out = join(dir, 'disclosed');
    const exported = await runWrit(['export', started.operationId, '--out', out, '--disclose', commitment], { env });
    assert.equal(exported.code, 0, exported.stdout + exported.stderr);
    const sealed = JSON.parse(await readFile(join(out, 'sealed.json'), 'utf8')) as SealedJson;
    const disclosed = sealed.values.filter((entry) => entry.disclosure);
    assert.equal(disclosed.length, 1, 'only what was asked for is disclosed');
    assert.equal(disclosed[0]!.disclosure!.value, 'gold');
    assert.ok(sealed.values.every((entry) => entry.state === 'held'));

    const checked = await runWrit(['verify-bundle', out, '--verifier-key', verifierKey], { env });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /1 disclosed and checked against their commitments/);

    const python = (dir: string) =>
      runCommand('python3', [
        join(REPO_ROOT, 'test', 'evidence', 'independent_verifier.py'),
        dir,
        '--verifier-key',
        verifierKey,
      ]);
    const independent = await python(out);
    assert.equal(independent.code, 0, independent.stdout + independent.stderr);
    assert.match(independent.stdout, /1 disclosed value\(s\) checked against their commitments/);

    // An exporter that lies about the value: the commitment in the hashed record gives it away.
    const files = await readBundle(out);
    const forged: SealedJson = JSON.parse(Buffer.from(files.get('sealed.json')!).toString('utf8'));
    forged.values.find((entry) => entry.disclosure)!.disclosure!.value = 'platinum';
    files.set('sealed.json', Buffer.from(JSON.stringify(forged)));
    const verdict = await verifyBundle(files, { verifierKey: parseVerifierKey(verifierKey) });
    assert.ok(
      verdict.findings.some((f) => f.code === 'DISCLOSURE_INVALID'),
      JSON.stringify(verdict.findings),
    );
    const lied = join(dir, 'lied');
    await cp(out, lied, { recursive: true });
    await writeFile(join(lied, 'sealed.json'), JSON.stringify(forged));
    const caught = await python(lied);
    assert.equal(caught.code, 1);
    assert.match(caught.stdout, /the value disclosed at \/after\/tier does not hash to its commitment/);
    // And one that claims a commitment the record does not hold.
    forged.values[0]!.commitment = 'b'.repeat(64);
    files.set('sealed.json', Buffer.from(JSON.stringify(forged)));
    const moved = await verifyBundle(files, { verifierKey: parseVerifierKey(verifierKey) });
    assert.ok(moved.findings.some((f) => f.code === 'SEALED_NOT_IN_RECORD'));
    assert.ok(moved.findings.some((f) => f.code === 'SEALED_UNLISTED'));

    // After erasure the next bundle says so, and the value can no longer be disclosed.
    const erased = await runWrit(
      ['erase', '--subject', 'account:public.accounts/42', '--reason', 'R-9', '--by', 'dpo'],
      { env },
    );
    assert.equal(erased.code, 0, erased.stderr);
    const after = join(dir, 'after');
    const again = await runWrit(['export', started.operationId, '--out', after], { env });
    assert.equal(again.code, 0, again.stderr);
    const states = (JSON.parse(await readFile(join(after, 'sealed.json'), 'utf8')) as SealedJson).values.map(
      (e) => e.state,
    );
    assert.ok(states.length && states.every((state) => state === 'erased'));
    const afterCheck = await runWrit(['verify-bundle', after, '--verifier-key', verifierKey], { env });
    assert.equal(afterCheck.code, 0, afterCheck.stdout + afterCheck.stderr);
    assert.match(afterCheck.stdout, new RegExp(`${states.length} erased by export time`));
    const gone = await runWrit(['export', started.operationId, '--out', join(dir, 'gone'), '--disclose', commitment], {
      env,
    });
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /no longer held/);
    const earlier = await runWrit(['verify-bundle', out, '--verifier-key', verifierKey], { env });
    assert.equal(earlier.code, 0, 'the bundle exported before erasure still verifies, disclosure and all');
  });
});
