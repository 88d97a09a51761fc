/**
 * The containers' health checks (src/deploy/healthcheck.ts), run as Docker runs them: a child
 * process whose exit code is the verdict, against a real worker on the test run's dev server and
 * a real HTTP listener.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { freePort } from '../../src/net/ports.js';
import { serveHealth, workerHealth } from '../../src/deploy/healthcheck.js';
import { runCommand } from '../support/cli.js';
import { temporalAddress } from '../support/db.js';
import { startWrit } from '../support/writ.js';

const HEALTHCHECK = 'dist/src/deploy/healthcheck.js';

describe('worker health', () => {
  test("healthy while this host's worker polls the task queue, unhealthy when none does", async (t) => {
    const { taskQueue, stopWorker } = await startWrit(t);
    const env = { TEMPORAL_ADDRESS: temporalAddress(), WRIT_TASK_QUEUE: taskQueue };
    // The worker polls as soon as it runs; the first poll reaches the server within moments.
    let verdict = await workerHealth(env);
    for (let tries = 0; !verdict.healthy && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      verdict = await workerHealth(env);
    }
    assert.equal(verdict.healthy, true, verdict.reason);
    const cli = await runCommand(process.execPath, [HEALTHCHECK, 'worker'], { env });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`worker: healthy: polling task queue ${taskQueue}`));

    const elsewhere = await workerHealth(env, 'another-container');
    assert.equal(elsewhere.healthy, false, 'a worker on another host does not make this container healthy');
    assert.match(elsewhere.reason, /no worker on another-container polls/);

    const idle = await runCommand(process.execPath, [HEALTHCHECK, 'worker'], {
      env: { ...env, WRIT_TASK_QUEUE: `nobody-${randomUUID()}` },
    });
    assert.equal(idle.code, 1);
    assert.match(idle.stderr, /worker: unhealthy: no worker on .* polls task queue nobody-/);
    await stopWorker();
  });

  test('unhealthy, with the reason, when Temporal does not answer', async () => {
    const port = await freePort();
    const verdict = await workerHealth({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    assert.equal(verdict.healthy, false);
    assert.match(verdict.reason, new RegExp(`no Temporal at 127\\.0\\.0\\.1:${port}`));
  });
});

describe('serve health', () => {
  const listen = async (status: number) => {
    const server = createServer((_request, response) => response.writeHead(status).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: String((server.address() as AddressInfo).port),
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  };

  test('healthy when writ serve answers below 500 (a 404 for / included), unhealthy on a 5xx or silence', async (t) => {
    const notFound = await listen(404);
    const broken = await listen(503);
    t.after(() => Promise.all([notFound.close(), broken.close()]));
    const ok = await runCommand(process.execPath, [HEALTHCHECK, 'serve'], { env: { WRIT_SERVE_PORT: notFound.port } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /serve: healthy: .* answered 404/);
    assert.deepEqual(await serveHealth({ WRIT_SERVE_PORT: broken.port }), {
      healthy: false,
      reason: `http://127.0.0.1:${broken.port}/ answered 503`,
    });
    const silent = await runCommand(process.execPath, [HEALTHCHECK, 'serve'], {
      env: { WRIT_SERVE_PORT: String(await freePort()) },
    });
    assert.equal(silent.code, 1);
    assert.match(silent.stderr, /serve: unhealthy: /);
  });

  test('a usage error exits 2', async () => {
    const usage = await runCommand(process.execPath, [HEALTHCHECK, 'frontend']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: healthcheck\.js worker\|serve/);
  });
});
