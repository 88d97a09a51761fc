import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { freePorts } from '../../src/net/ports.js';
import { runWrit } from '../support/cli.js';
import { summaryOf } from './process.js';

test('with no PostgreSQL to be found, writ demo starts an embedded one, tells the story on it, and removes it', async () => {
  // Two servers that do not answer: DATABASE_URL and the "local" one, on ports nothing listens on.
  const [nobodyHome, alsoNobody] = (await freePorts(2)) as [number, number];
  const run = await runWrit(['demo', '--json'], {
    env: {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${nobodyHome}/postgres`,
      WRIT_DEMO_LOCAL_URL: `postgres://postgres@127.0.0.1:${alsoNobody}/postgres`,
    },
  });
  assert.equal(run.code, 0, `writ demo failed:\n${run.stderr}`);
  assert.match(run.stderr, new RegExp(`127\\.0\\.0\\.1:${nobodyHome}/postgres \\(DATABASE_URL\\) is not usable`));
  assert.match(run.stderr, new RegExp(`127\\.0\\.0\\.1:${alsoNobody}/postgres \\(local\\) is not usable`));
  assert.match(run.stderr, /on an embedded PostgreSQL/);

  const summary = summaryOf(run.stdout);
  assert.ok(summary?.ok, `a successful JSON summary:\n${run.stdout}`);
  assert.equal(summary.database.source, 'embedded');
  // The whole story ran on it: migrated ledger, writes, rollback, checkpoints, a full verify.
  assert.deepEqual(
    summary.chapters.map((c) => c.ok),
    [true, true, true, true, true, true, true],
  );
  const embeddedDir = summary.database.embeddedDir;
  assert.ok(embeddedDir);
  assert.equal(existsSync(embeddedDir), false, "the cluster's directory is removed");
  const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  assert.ok(!processes.includes(embeddedDir), 'no PostgreSQL process of that cluster is left running');
});
