import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { REPO_ROOT, runCommand, runWrit } from '../support/cli.js';
import { freshLedger } from '../support/db.js';
import { appendNotes, tamper } from '../support/records.js';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const BAR = /verifying .*\[.*\].*records/;

/** Runs `writ <args>` with stdin, stdout and stderr on a pseudo-terminal (util-linux `script`). */
function onTerminal(args: string, env: NodeJS.ProcessEnv) {
  return runCommand('script', ['-qfec', `${process.execPath} ${CLI} ${args}`, '/dev/null'], { env });
}

describe('writ verify shows its progress on a terminal and nowhere else', () => {
  test('on a terminal a bar appears; through a pipe, or with --json, stderr has none', async (t) => {
    const ledger = await freshLedger(t);
    await appendNotes(new GroupCommitAppender(ledger.pool), 40);
    const env = { DATABASE_URL: ledger.url };
    const terminal = await onTerminal('verify', env);
    assert.equal(terminal.code, 0, terminal.stdout);
    assert.match(terminal.stdout, BAR, 'the bar is drawn on the terminal');
    assert.match(terminal.stdout, /40 records/);
    const piped = await runWrit(['verify'], { env });
    assert.equal(piped.code, 0, piped.stderr);
    assert.doesNotMatch(piped.stderr, /verifying|\[/, 'no bar in a pipe');
    const json = await onTerminal('verify --json', env);
    assert.doesNotMatch(json.stdout, BAR, 'no bar with --json, even on a terminal');
    assert.equal(JSON.parse(json.stdout.slice(json.stdout.indexOf('{'))).ok, true);
  });
});

describe('verification over worker threads works when Writ runs from its TypeScript sources under tsx', () => {
  test('the worker is loaded from the build in dist and names damage', async (t) => {
    const ledger = await freshLedger(t);
    await appendNotes(new GroupCommitAppender(ledger.pool), 9);
    const tsx = join(REPO_ROOT, 'node_modules/.bin/tsx');
    const run = async () => {
      const result = await runCommand(tsx, ['test/fixtures/verify-under-tsx.ts', ledger.url]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as { workerFile: string; ok: boolean; records: number; damage: { seq: number } };
    };
    const intact = await run();
    assert.equal(intact.workerFile, join(REPO_ROOT, 'dist/src/ledger/verify-worker.js'));
    assert.deepEqual([intact.ok, intact.records], [true, 9]);
    await tamper(ledger.pool, 'DELETE FROM writ.records WHERE seq = 6');
    const damaged = await run();
    assert.deepEqual([damaged.ok, damaged.records, damaged.damage.seq], [false, 5, 6]);
  });
});
