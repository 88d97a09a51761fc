import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { verifyBundle } from '../../src/verify/bundle/verify.js';
import { parseVerifierKey } from '../../src/verify/note.js';
import { REPO_ROOT, runCommand } from '../support/cli.js';

/**
 * A bundle exported by Writ before proofs shared their nodes (commit f0c76fc, format writ-bundle/1):
 * one trace of three operations, 29 records, from the evidence benchmark's ledger of 100,000. An
 * auditor may hold bundles like it for years; they must keep verifying, and a changed proof in one
 * must still be caught and pinned on its record.
 */
const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'bundle-v1');
const VERIFIER_KEY = 'writ-bench+99465c16+AWlbg2AyeTvgy8VBsmf9w2gHulXZaL4+4InHrUhM3yvi';
const PYTHON_VERIFIER = join(REPO_ROOT, 'test', 'evidence', 'independent_verifier.py');

function readDir(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
}

interface ProofsV1 {
  proofs: Array<{ seq: number; hashes: string[] }>;
}

describe('bundles of format writ-bundle/1', () => {
  test('still verify, with the Writ verifier and the independent one', async () => {
    const files = readDir(FIXTURE);
    assert.equal(JSON.parse(files.get('manifest.json')!.toString('utf8')).format, 'writ-bundle/1');
    const verdict = await verifyBundle(files, { verifierKey: parseVerifierKey(VERIFIER_KEY) });
    assert.deepEqual(verdict.findings, []);
    assert.equal(verdict.ok, true);
    assert.equal(verdict.records, 29);
    assert.equal(verdict.operations.length, 3);
    const py = await runCommand('python3', [PYTHON_VERIFIER, FIXTURE, '--verifier-key', VERIFIER_KEY]);
    assert.equal(py.code, 0, py.stdout + py.stderr);
  });

  test('one changed hash in one proof is pinned on that record by both verifiers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'writ-bundle-v1-'));
    cpSync(FIXTURE, dir, { recursive: true });
    const proofs = JSON.parse(readFileSync(join(dir, 'proofs.json'), 'utf8')) as ProofsV1;
    const victim = proofs.proofs[11]!;
    const hash = Buffer.from(victim.hashes[3]!, 'base64');
    hash[0]! ^= 1;
    victim.hashes[3] = hash.toString('base64');
    writeFileSync(join(dir, 'proofs.json'), `${JSON.stringify(proofs, null, 1)}\n`);

    const verdict = await verifyBundle(readDir(dir), { verifierKey: parseVerifierKey(VERIFIER_KEY) });
    assert.deepEqual(
      verdict.findings.filter((f) => f.code !== 'FILE_DIGEST_MISMATCH').map((f) => [f.code, f.file, f.seq]),
      [['INCLUSION_PROOF_INVALID', 'proofs.json', victim.seq]],
    );
    const py = await runCommand('python3', [PYTHON_VERIFIER, dir, '--verifier-key', VERIFIER_KEY]);
    assert.equal(py.code, 1, py.stdout + py.stderr);
    assert.match(py.stdout, new RegExp(`proofs\\.json.*seq ${victim.seq}`));
  });

  test('records.jsonl that is not UTF-8, or opens with a byte order mark, is malformed', async () => {
    const key = parseVerifierKey(VERIFIER_KEY);
    const records = readFileSync(join(FIXTURE, 'records.jsonl'));
    const malformed = async (bytes: Buffer) =>
      (await verifyBundle(new Map([...readDir(FIXTURE), ['records.jsonl', bytes]]), { verifierKey: key })).findings
        .filter((f) => f.code === 'RECORD_MALFORMED')
        .map((f) => f.problem);
    const broken = Buffer.from(records);
    broken[100] = 0xff;
    assert.deepEqual(await malformed(broken), ['is not valid UTF-8']);
    assert.deepEqual(await malformed(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), records])), [
      'line 1 is not JSON',
    ]);
  });

  test('a statement changed after signing fails its signature, reported in its place among the findings', async () => {
    const files = readDir(FIXTURE);
    const name = [...files.keys()].find((n) => n.startsWith('statement.'))!;
    const envelope = JSON.parse(files.get(name)!.toString('utf8')) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    statement.predicate.requester = 'someone-else';
    envelope.payload = Buffer.from(JSON.stringify(statement), 'utf8').toString('base64');
    files.set(name, Buffer.from(JSON.stringify(envelope), 'utf8'));
    // And a governance file, which is checked after the statements.
    const governance = [...files.keys()].find((n) => n.startsWith('governance.policy.'))!;
    files.set(governance, Buffer.from(`${files.get(governance)!.toString('utf8')} `, 'utf8'));
    const verdict = await verifyBundle(files, { verifierKey: parseVerifierKey(VERIFIER_KEY) });
    assert.deepEqual(
      verdict.findings.filter((f) => f.code !== 'FILE_DIGEST_MISMATCH').map((f) => [f.code, f.file]),
      [
        ['STATEMENT_SIGNATURE_INVALID', name],
        ['GOVERNANCE_DIGEST_MISMATCH', governance],
        ['GOVERNANCE_NOT_CANONICAL', governance],
      ],
    );
  });
});
