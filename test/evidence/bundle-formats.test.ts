import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { verifyBundle } from '../../src/verify/bundle/verify.js';
import type { BundleFinding } from '../../src/verify/bundle/verify.js';
import { parseVerifierKey } from '../../src/verify/note.js';
import { REPO_ROOT, runCommand } from '../support/cli.js';

/**
 * The same trace of three operations (23 records, from the evidence benchmark's ledger of 100,000)
 * exported twice with the same key: by Writ before format 3 (statements a file an operation) and
 * after it (statements the lines of statements.intoto.jsonl). Both must verify, with both
 * verifiers, and what each format says about the statements must hold.
 */
const V2 = join(REPO_ROOT, 'test', 'fixtures', 'bundle-v2');
const V3 = join(REPO_ROOT, 'test', 'fixtures', 'bundle-v3');
const VERIFIER_KEY = 'writ-bench+f112b0d0+AXWsZ4QeMkerwm2hikNIKi5WUQ6njni+SF+LswEVrkRK';
const PYTHON_VERIFIER = join(REPO_ROOT, 'test', 'evidence', 'independent_verifier.py');
const STATEMENTS = 'statements.intoto.jsonl';

function readDir(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
}

/** The findings, less the manifest's digest mismatches that any change to a file brings. */
async function findings(files: Map<string, Buffer>): Promise<Array<[string, string, string]>> {
  const verdict = await verifyBundle(files, { verifierKey: parseVerifierKey(VERIFIER_KEY) });
  return verdict.findings
    .filter((f: BundleFinding) => f.code !== 'FILE_DIGEST_MISMATCH' && f.code !== 'FILE_UNLISTED')
    .map((f) => [f.code, f.file, f.problem]);
}

/** The independent verifier on these files: its exit code and what it printed. */
async function python(files: Map<string, Buffer>): Promise<{ code: number | null; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'writ-bundle-formats-'));
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  const result = await runCommand('python3', [PYTHON_VERIFIER, dir, '--verifier-key', VERIFIER_KEY]);
  return { code: result.code, out: result.stdout + result.stderr };
}

function statementLines(files: Map<string, Buffer>): string[] {
  return files.get(STATEMENTS)!.toString('utf8').split('\n').slice(0, -1);
}

function operationOf(line: string): string {
  const envelope = JSON.parse(line) as { payload: string };
  return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')).predicate.operationId;
}

describe('bundle formats 2 and 3', () => {
  test('a format 2 bundle still verifies, and a format 3 bundle of the same trace does too', async () => {
    for (const [dir, format] of [
      [V2, 'writ-bundle/2'],
      [V3, 'writ-bundle/3'],
    ] as const) {
      const files = readDir(dir);
      assert.equal(JSON.parse(files.get('manifest.json')!.toString('utf8')).format, format);
      const verdict = await verifyBundle(files, { verifierKey: parseVerifierKey(VERIFIER_KEY) });
      assert.deepEqual(verdict.findings, []);
      assert.deepEqual([verdict.records, verdict.operations.length], [23, 3]);
      const py = await python(files);
      assert.equal(py.code, 0, py.out);
    }
    assert.equal([...readDir(V2).keys()].filter((name) => name.startsWith('statement.')).length, 3);
    assert.equal(statementLines(readDir(V3)).length, 3);
    assert.ok(![...readDir(V3).keys()].some((name) => name.startsWith('statement.')));
  });

  test('format 3: an operation whose line is gone, or whose line comes twice, is named by both verifiers', async () => {
    const files = readDir(V3);
    const lines = statementLines(files);
    const dropped = operationOf(lines[1]!);
    const withoutOne = new Map(files).set(STATEMENTS, Buffer.from(`${lines[0]}\n${lines[2]}\n`, 'utf8'));
    assert.deepEqual(await findings(withoutOne), [
      ['STATEMENT_MISSING', STATEMENTS, `operation ${dropped} has records but no signed statement`],
    ]);
    const py = await python(withoutOne);
    assert.equal(py.code, 1, py.out);
    assert.match(py.out, new RegExp(`statements\\.intoto\\.jsonl.*operation ${dropped}`));

    const twice = new Map(files).set(STATEMENTS, Buffer.from(`${lines.join('\n')}\n${lines[0]}\n`, 'utf8'));
    assert.deepEqual(await findings(twice), [
      [
        'STATEMENT_OPERATION_MISMATCH',
        STATEMENTS,
        `line 4: the statement's operationId "${operationOf(lines[0]!)}" already has its statement on line 1`,
      ],
    ]);
    const pyTwice = await python(twice);
    assert.equal(pyTwice.code, 1, pyTwice.out);
    assert.match(pyTwice.out, /statements\.intoto\.jsonl line 4.*second statement/);
  });

  test('format 3: a statement of an operation the records do not hold is refused, even signed by the key', async () => {
    // A genuine line, signed by the key, whose operation's records are taken out of the bundle.
    const files = readDir(V3);
    const lines = statementLines(files);
    const foreign = operationOf(lines[0]!);
    const records = files
      .get('records.jsonl')!
      .toString('utf8')
      .split('\n')
      .filter((line) => line && !Buffer.from(JSON.parse(line).canonical, 'base64').toString('utf8').includes(foreign));
    const without = new Map(files)
      .set('records.jsonl', Buffer.from(`${records.join('\n')}\n`, 'utf8'))
      .set(STATEMENTS, Buffer.from(`${lines.join('\n')}\n`, 'utf8'));
    const problems = (await findings(without)).filter(([code]) => code.startsWith('STATEMENT'));
    assert.deepEqual(problems, [
      [
        'STATEMENT_OPERATION_MISMATCH',
        STATEMENTS,
        `line 1: the statement's operationId "${foreign}" is not an operation of the records in records.jsonl`,
      ],
    ]);
    const py = await python(without);
    assert.equal(py.code, 1, py.out);
    assert.match(py.out, /statements\.intoto\.jsonl line 1.*no operation in records\.jsonl/);
  });

  test('each format refuses the other way of carrying statements', async () => {
    const v2 = readDir(V2);
    const v3 = readDir(V3);
    const perOperation = [...v2.keys()].find((name) => name.startsWith('statement.'))!;
    assert.deepEqual(await findings(new Map(v3).set(perOperation, v2.get(perOperation)!)), [
      ['STATEMENT_MALFORMED', perOperation, 'a writ-bundle/3 bundle has its statements in statements.intoto.jsonl'],
    ]);
    assert.deepEqual(await findings(new Map(v2).set(STATEMENTS, v3.get(STATEMENTS)!)), [
      [
        'STATEMENT_MALFORMED',
        STATEMENTS,
        'a writ-bundle/2 bundle has a statement file an operation, not statements.intoto.jsonl',
      ],
    ]);
    for (const files of [
      new Map(v3).set(perOperation, v2.get(perOperation)!),
      new Map(v2).set(STATEMENTS, v3.get(STATEMENTS)!),
    ]) {
      const py = await python(files);
      assert.equal(py.code, 1, py.out);
    }
  });

  test('format 3: a line changed after signing fails its signature, named by its line', async () => {
    const files = readDir(V3);
    const lines = statementLines(files);
    const envelope = JSON.parse(lines[2]!) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    statement.predicate.requester = 'someone-else';
    envelope.payload = Buffer.from(JSON.stringify(statement), 'utf8').toString('base64');
    lines[2] = JSON.stringify(envelope);
    const changed = new Map(files).set(STATEMENTS, Buffer.from(`${lines.join('\n')}\n`, 'utf8'));
    const [only, ...rest] = await findings(changed);
    assert.deepEqual(rest, []);
    assert.deepEqual(only!.slice(0, 2), ['STATEMENT_SIGNATURE_INVALID', STATEMENTS]);
    assert.match(only![2], /^line 3: /);
    const py = await python(changed);
    assert.equal(py.code, 1, py.out);
    assert.match(py.out, /statements\.intoto\.jsonl line 3.*DSSE signature/);
  });
});
