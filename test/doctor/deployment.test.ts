/**
 * `writ doctor` against a healthy deployment on the test run's dev server and PostgreSQL, then
 * with one thing wrong at a time: each failure is named, says how to fix it, and exits 1.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { ensureLogins, urlAs } from '../../src/db/logins.js';
import { temporalAddress } from '../support/db.js';
import { adminUrl } from '../support/urls.js';
import { startWrit, waitFor } from '../support/writ.js';
import { CLEARED, doctorCli, doctorIn, named } from './support.js';

async function assertHealthy(env: NodeJS.ProcessEnv): Promise<void> {
  const healthy = await doctorCli(env);
  assert.equal(healthy.code, 0, healthy.cli.stdout);
  for (const name of [
    'temporal',
    'namespace',
    'search-attributes',
    'worker-pollers',
    'database-login',
    'migrations',
    'row-level-security',
    'clock',
  ])
    assert.equal(healthy.checks.get(name)?.status, 'ok', `${name}: ${healthy.checks.get(name)?.detail}`);
  assert.match(healthy.checks.get('database-login')!.detail, /writ_worker: not a superuser/);
  for (const table of ['writ.records', 'writ.checkpoints', 'writ.holds'])
    assert.ok(healthy.checks.get('row-level-security')!.detail.includes(table), `${table} is checked`);
}

describe('writ doctor on a deployment', () => {
  test('all ok with a worker polling; a superuser login, an idle queue and another host each fail with their fix', async (t) => {
    const { ledger, taskQueue } = await startWrit(t);
    await ensureLogins(adminUrl());
    const env = {
      ...CLEARED,
      TEMPORAL_ADDRESS: temporalAddress(),
      WRIT_TASK_QUEUE: taskQueue,
      DATABASE_URL: urlAs(ledger.url, 'worker'),
    };
    // The worker's first polls reach the server within moments of its start.
    await waitFor('the worker to poll', async () => named(await doctorIn(env), 'worker-pollers').status === 'ok');

    await assertHealthy(env);

    const superuser = await doctorCli({ ...env, DATABASE_URL: ledger.url });
    assert.equal(superuser.code, 1);
    const login = superuser.checks.get('database-login')!;
    assert.equal(login.status, 'fail');
    assert.match(login.detail, /a superuser/);
    assert.match(login.fix!, /set DATABASE_URL to a login of its own \(writ_worker/);

    const idle = await doctorCli({ ...env, WRIT_TASK_QUEUE: `nobody-${randomUUID()}` });
    assert.equal(idle.code, 1);
    const pollers = idle.checks.get('worker-pollers')!;
    assert.equal(pollers.status, 'fail');
    assert.match(pollers.detail, /no worker polls the workflow task queue nobody-/);
    assert.match(pollers.fix!, /writ worker/);

    const elsewhere = await doctorIn(env, { role: 'worker', host: 'another-container' });
    assert.match(named(elsewhere, 'worker-pollers').detail, /no worker on another-container polls/);
  });

  test('human output: one line per check, FAIL with its fix, exit 1; nothing answering at TEMPORAL_ADDRESS', async () => {
    const run = await doctorCli({ ...CLEARED, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(run.code, 1);
    assert.equal(run.checks.get('temporal')!.status, 'fail');
    assert.equal(run.checks.get('namespace')!.status, 'skip');
    const { runWrit } = await import('../support/cli.js');
    const text = await runWrit(['doctor', '--role', 'worker'], {
      env: { ...CLEARED, TEMPORAL_ADDRESS: '127.0.0.1:1' },
    });
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^FAIL temporal: nothing answers at 127\.0\.0\.1:1: .*; fix: start the Temporal server/m);
    assert.match(text.stdout, /^skip namespace: Temporal is unreachable$/m);
    assert.match(text.stderr, /checks? failed: temporal/);
    const usage = await runWrit(['doctor', '--role', 'frontend']);
    assert.equal(usage.code, 2);
  });
});
