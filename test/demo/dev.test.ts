import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { freePorts } from '../../src/net/ports.js';
import { runWrit } from '../support/cli.js';
import { adminUrl, databaseUrlFor } from '../support/urls.js';
import { answers, exportedEnv, startWrit } from './process.js';

test('writ dev runs the stack until Ctrl-C, and what it ran survives a restart', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'writ-dev-test-'));
  // Inside the test run's prefix, so the harness drops it even if this test cannot.
  const database = `${process.env.WRIT_TEST_RUN ?? 'writ_test'}_dev_${randomBytes(3).toString('hex')}`;
  t.after(async () => {
    rmSync(stateDir, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });
  const [port, uiPort, servePort, identityPort] = (await freePorts(4)) as [number, number, number, number];
  const args = [
    'dev',
    '--state-dir',
    stateDir,
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--serve-port',
    String(servePort),
    '--identity-port',
    String(identityPort),
  ];
  const start = () => startWrit(args, { DATABASE_URL: databaseUrlFor(database) });

  const dev = start();
  let operationId: string;
  try {
    await dev.waitFor((out) => out.includes('writ dev ready'), 180_000);
    const env = exportedEnv(dev.stdout());
    assert.equal(env.TEMPORAL_ADDRESS, `127.0.0.1:${port}`);
    assert.equal(env.DATABASE_URL, databaseUrlFor(database));
    assert.ok(
      env.WRIT_SIGNING_KEY && env.WRIT_VERIFIER_KEY && env.WRIT_ANCHOR_DIR,
      `the signing, verifier and anchor settings are printed:\n${dev.stdout()}`,
    );

    // The CLI, configured only by what writ dev printed, submits a write that the worker carries out.
    const request = join(stateDir, 'request.json');
    writeFileSync(
      request,
      JSON.stringify({
        actor: { id: 'writ-cli', kind: 'service' },
        intent: 'try writ dev',
        steps: [
          { connector: 'files', action: 'write', target: 'hello.txt', params: { content: 'hello from writ dev\n' } },
        ],
      }),
    );
    // Who asks is verified here as anywhere: a request that proves nothing is refused, and nothing is written.
    const unproved = await runWrit(['submit', request, '--wait', '--json'], { env });
    assert.equal(unproved.code, 1, unproved.stdout + unproved.stderr);
    assert.equal(existsSync(join(stateDir, 'files', 'hello.txt')), false);
    // With the token writ dev's provider gives the service it printed, the write is made.
    assert.ok(env.WRIT_CLIENT_ID && env.WRIT_CLIENT_SECRET, `the service client is printed:\n${dev.stdout()}`);
    const issuer = /--token-from (\S+)/.exec(dev.stdout())?.[1];
    assert.ok(issuer, 'writ dev prints how to submit with a token');
    const submitted = await runWrit(['submit', request, '--token-from', issuer, '--wait', '--json'], { env });
    assert.equal(submitted.code, 0, submitted.stderr);
    const result = JSON.parse(submitted.stdout.trim().split('\n').pop()!) as { operationId: string; outcome: string };
    assert.equal(result.outcome, 'succeeded');
    operationId = result.operationId;
    assert.equal(readFileSync(join(stateDir, 'files', 'hello.txt'), 'utf8'), 'hello from writ dev\n');
    const happened = await runWrit(['what-happened', operationId], { env });
    assert.equal(happened.code, 0, happened.stderr);
    assert.match(happened.stdout, /closed, succeeded/);
    assert.match(happened.stdout, /who asked: +writ-cli \(service; identity verified\)/);
    // The approval inbox sends a person to sign in at the provider.
    const inbox = await fetch(`http://127.0.0.1:${servePort}/approvals`, { redirect: 'manual' });
    assert.equal(inbox.status, 302);
    const verified = await runWrit(['verify'], { env });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /chain main: intact/);

    assert.equal((await fetch(`http://127.0.0.1:${uiPort}`)).status, 200, 'the Web UI answers');
    assert.ok(await answers(`127.0.0.1:${servePort}`), 'writ serve answers');

    const stopped = await dev.stop('SIGINT');
    assert.equal(stopped.code, 0, `SIGINT is a clean stop:\n${dev.stdout()}\n${dev.stderr()}`);
    assert.match(dev.stdout(), /writ dev stopped\n/);
    assert.doesNotMatch(dev.stdout(), /did not stop cleanly/);
    for (const p of [port, uiPort, servePort, identityPort])
      assert.equal(await answers(`127.0.0.1:${p}`), false, `port ${p} is free again`);
  } finally {
    await dev.stop('SIGINT');
  }

  // Started again on the same state directory: the dev server remembers the operation.
  const again = start();
  try {
    await again.waitFor((out) => out.includes('writ dev ready'), 180_000);
    const status = await runWrit(['status', operationId, '--json'], { env: exportedEnv(again.stdout()) });
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { state: string }).state, 'closed');
    assert.equal((await again.stop('SIGTERM')).code, 0);
  } finally {
    await again.stop('SIGINT');
  }
});
