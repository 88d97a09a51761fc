import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fileTimeoutFrom, runTestFiles } from './files.js';
import { isAlive } from '../support/process-alive.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));

describe('when a test file never ends', () => {
  test('the harness kills it and what it started after the limit, names it, and fails the run', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'writ-harness-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const pidsFile = join(dir, 'pids');
    const out = new PassThrough();
    let log = '';
    out.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));

    const started = Date.now();
    const { exitCode, outcomes } = await runTestFiles({
      files: [fixture('never-ends'), fixture('passes')],
      concurrency: 2,
      timeoutMs: 1_500,
      env: { ...process.env, WRIT_HARNESS_FIXTURE_PIDS: pidsFile },
      out,
    });

    assert.equal(exitCode, 1);
    assert.ok(Date.now() - started < 15_000, `the run ended soon after the limit (${Date.now() - started} ms)`);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['timed out', 'passed'],
    );
    assert.match(log, new RegExp(`^TIMED OUT ${fixture('never-ends').replaceAll('.', '\\.')} after 1\\.5 s$`, 'm'));
    assert.match(log, /✔ one/, "the passing file's spec output is kept");
    const lines = log.trimEnd().split('\n');
    assert.equal(
      lines.at(-1),
      '2 passed, 1 failed',
      'the last line totals the tests, the hung file counting as one failure',
    );
    assert.ok(lines.includes(`TIMED OUT ${fixture('never-ends')}`), 'the summary lists the file');

    const pids = readFileSync(pidsFile, 'utf8').trim().split('\n').map(Number);
    assert.equal(pids.length, 2, 'the fixture ran and started its child');
    // SIGKILL is delivered at once; give the kernel a moment before looking.
    for (let i = 0; i < 100 && pids.some(isAlive); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(pids.filter(isAlive), [], 'neither the test process nor its child is left behind');
  });
});

describe('when the per-file limit is configured', () => {
  test('WRIT_TEST_FILE_TIMEOUT_MS sets it, ten minutes is the default, and nonsense is refused', () => {
    assert.equal(fileTimeoutFrom({}), 600_000);
    assert.equal(fileTimeoutFrom({ WRIT_TEST_FILE_TIMEOUT_MS: '30000' }), 30_000);
    assert.throws(
      () => fileTimeoutFrom({ WRIT_TEST_FILE_TIMEOUT_MS: '10m' }),
      /positive whole number of milliseconds, got "10m"/,
    );
  });
});

describe('when a test file fails', () => {
  test("the closing summary says why, under the file's name, without its stack frames", async () => {
    const out = new PassThrough();
    let log = '';
    out.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    const { exitCode } = await runTestFiles({
      files: [fixture('fails'), fixture('passes')],
      concurrency: 2,
      timeoutMs: 60_000,
      env: process.env,
      out,
    });
    assert.equal(exitCode, 1);
    const summary = log.slice(log.lastIndexOf('\nfiles: '));
    const why = summary.split('\n').filter((line) => line.startsWith('    '));
    assert.ok(summary.includes(`FAILED ${fixture('fails')}\n    `), summary);
    assert.ok(
      why.some((line) => line.includes('the figures agree')),
      summary,
    );
    assert.ok(
      why.some((line) => line.includes('the total was off by one')),
      summary,
    );
    assert.ok(!why.some((line) => /^\s+at /.test(line)), 'no stack frames');
    assert.ok(!why.some((line) => line.includes('noise line')), "the passing tests' output stays above");
    assert.equal(summary.trimEnd().split('\n').at(-1), '3 passed, 1 failed');
  });
});
