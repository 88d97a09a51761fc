import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { runWrit } from '../support/cli.js';
import { note } from '../support/records.js';
import { TRACE, ledgerWith, python } from '../support/tsa-bundle.js';
import type { Context } from '../support/tsa-bundle.js';

interface MultiVerdict {
  ok: boolean;
  bundles: Array<{ dir: string; ok: boolean; chain: string; records: number; operations: string[] }>;
}

/** A trace whose two operations went to chains a and b, and a record of chain b outside it. */
async function traceOverTwoChains(t: Context) {
  const setup = await ledgerWith(t, undefined);
  // One append per record: an append is one transaction on one chain.
  const appender = new GroupCommitAppender(setup.ledger.pool);
  await appender.append(note(1, { chain: 'a', operationId: 'op-a', correlationId: TRACE }));
  await appender.append(note(2, { chain: 'b', operationId: 'op-b', correlationId: TRACE }));
  await appender.append(note(3, { chain: 'a', operationId: 'op-a', correlationId: TRACE }));
  await appender.append(note(4, { chain: 'b', operationId: 'op-other' }));
  return setup;
}

function seqsIn(dir: string): number[] {
  return readFileSync(join(dir, 'records.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { seq: number }).seq);
}

describe('an export whose records are on several chains', () => {
  test('a correlation id spread over two chains is a bundle per chain, each checked by both verifiers', async (t) => {
    const { exportBundle, env, verifierKey } = await traceOverTwoChains(t);
    const { out, result } = await exportBundle();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['a', 'b']);
    assert.deepEqual(seqsIn(join(out, 'a')), [1, 2]);
    assert.deepEqual(seqsIn(join(out, 'b')), [1], "chain b's record outside the trace stays out");
    assert.match(result.stdout, /one bundle per chain/);

    const all = await runWrit(['verify-bundle', out, '--json'], { env });
    assert.equal(all.code, 0, all.stdout + all.stderr);
    const verdict = JSON.parse(all.stdout) as MultiVerdict;
    assert.equal(verdict.ok, true);
    assert.deepEqual(
      verdict.bundles.map((b) => [b.dir, b.ok, b.chain, b.records, b.operations]),
      [
        [join(out, 'a'), true, 'a', 2, ['op-a']],
        [join(out, 'b'), true, 'b', 1, ['op-b']],
      ],
    );
    const py = await python(out, verifierKey);
    assert.equal(py.code, 0, py.stdout + py.stderr);
    assert.match(readFileSync(join(out, 'a', 'README.md'), 'utf8'), /This bundle is one of 2 written together/);
  });

  test("one chain's bundle handed over alone is not the whole answer, for either verifier", async (t) => {
    const { exportBundle, env, verifierKey } = await traceOverTwoChains(t);
    const { out, result } = await exportBundle();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    for (const [chain, other] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      const alone = await runWrit(['verify-bundle', join(out, chain), '--json'], { env });
      assert.equal(alone.code, 1, alone.stdout + alone.stderr);
      const verdict = JSON.parse(alone.stdout) as { ok: boolean; findings: Array<{ code: string; problem: string }> };
      assert.deepEqual(
        verdict.findings.map((f) => f.code),
        ['EXPORT_INCOMPLETE'],
      );
      assert.match(verdict.findings[0]!.problem, new RegExp(`chains a, b\\); ${other} not given`));
      const said = await runWrit(['verify-bundle', join(out, chain)], { env });
      assert.match(said.stderr, /not the whole export: manifest\.json/);
      const py = await python(join(out, chain), verifierKey);
      assert.equal(py.code, 1, py.stdout + py.stderr);
      assert.match(py.stdout, /others were not given/);
    }
  });

  test("a chain's bundle left out of the export's directory fails the check, naming the chain", async (t) => {
    const { exportBundle, env, verifierKey } = await traceOverTwoChains(t);
    const { out, result } = await exportBundle();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    rmSync(join(out, 'b'), { recursive: true });
    // A one-chain directory left is judged as the lone bundle it is; a third chain's would be a set.
    const left = await runWrit(['verify-bundle', out, '--json'], { env });
    assert.equal(left.code, 1, left.stdout + left.stderr);
    const verdict = JSON.parse(left.stdout) as MultiVerdict & { bundles: Array<{ findings: Array<{ code: string }> }> };
    assert.equal(verdict.ok, false);
    assert.deepEqual(
      verdict.bundles[0]!.findings.map((f) => f.code),
      ['EXPORT_INCOMPLETE'],
    );
    const py = await python(out, verifierKey);
    assert.equal(py.code, 1, py.stdout + py.stderr);
    assert.match(py.stdout, /chains a, b; b not given/);
  });

  test("another export's bundle of a chain, put in the place of this export's, is found out", async (t) => {
    const { exportBundle, env, verifierKey } = await traceOverTwoChains(t);
    const { out, result } = await exportBundle();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    // A second export of the same trace: each of its bundles genuine and signed, but not this export's.
    const { out: second } = await exportBundle();
    rmSync(join(out, 'b'), { recursive: true });
    renameSync(join(second, 'b'), join(out, 'b'));
    const mixed = await runWrit(['verify-bundle', out, '--json'], { env });
    assert.equal(mixed.code, 1, mixed.stdout + mixed.stderr);
    const verdict = JSON.parse(mixed.stdout) as {
      bundles: Array<{ chain: string; findings: Array<{ code: string }> }>;
    };
    assert.deepEqual(
      verdict.bundles.map((b) => [b.chain, b.findings.map((f) => f.code)]),
      [
        ['a', []],
        ['b', ['EXPORT_MIXED']],
      ],
    );
    const py = await python(out, verifierKey);
    assert.equal(py.code, 1, py.stdout + py.stderr);
    assert.match(py.stdout, /chain b: not written by the same export as the others/);
  });

  test("one chain's bundle damaged fails the whole export's check, naming that bundle", async (t) => {
    const { exportBundle, env } = await traceOverTwoChains(t);
    const { out, result } = await exportBundle();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const records = join(out, 'b', 'records.jsonl');
    const line = JSON.parse(readFileSync(records, 'utf8')) as { canonical: string };
    const record = JSON.parse(Buffer.from(line.canonical, 'base64').toString('utf8'));
    record.payload.message = 'this never happened';
    line.canonical = Buffer.from(JSON.stringify(record)).toString('base64');
    writeFileSync(records, `${JSON.stringify(line)}\n`);

    const checked = await runWrit(['verify-bundle', out], { env });
    assert.equal(checked.code, 1, checked.stdout + checked.stderr);
    assert.match(checked.stdout, new RegExp(`bundle ${join(out, 'a')}: intact`));
    assert.match(checked.stdout, new RegExp(`bundle ${join(out, 'b')}: DAMAGED`));
    assert.match(checked.stderr, new RegExp(`${join(out, 'b')}: bundle damaged`));
  });

  test('a disclosure no record of either chain holds refuses the export, and nothing is written', async (t) => {
    const { env, dir } = await traceOverTwoChains(t);
    const out = join(dir, 'refused');
    const commitment = 'ab'.repeat(32);
    const result = await runWrit(['export', TRACE, '--out', out, '--disclose', commitment], { env });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, new RegExp(`cannot disclose ${commitment}: no selected record holds that commitment`));
    assert.equal(existsSync(out), false);
  });

  test('a window of time over both chains is exported the same way', async (t) => {
    const { env, dir } = await traceOverTwoChains(t);
    const out = join(dir, 'window');
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const result = await runWrit(['export', '--from', from, '--to', to, '--out', out], { env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['a', 'b']);
    assert.deepEqual(seqsIn(join(out, 'b')), [1, 2]);
    const checked = await runWrit(['verify-bundle', out], { env });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  });
});
