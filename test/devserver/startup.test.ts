import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Connection } from '@temporalio/client';
import { startDevServer } from '../../src/devserver/dev-server.js';
import { findTemporalCli } from '../../src/devserver/find-cli.js';
import { freePorts, isListening } from '../../src/net/ports.js';
import { isAlive } from '../support/process-alive.js';

const realCli = findTemporalCli(process.env);

/** A `temporal` that writes its pid and waits `seconds`, then runs the real CLI (or, without one, ends). */
function slowCli(t: TestContext, seconds: number, thenRun: string | null): { pidFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'writ-slow-cli-'));
  const pidFile = join(dir, 'pid');
  const script = join(dir, 'temporal');
  writeFileSync(
    script,
    thenRun
      ? `#!/bin/sh\necho $$ > '${pidFile}'\nsleep ${seconds}\nexec '${thenRun}' "$@"\n`
      : `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep ${seconds}\n`,
  );
  chmodSync(script, 0o755);
  const before = process.env.TEMPORAL_CLI;
  process.env.TEMPORAL_CLI = script;
  t.after(() => {
    if (before === undefined) delete process.env.TEMPORAL_CLI;
    else process.env.TEMPORAL_CLI = before;
  });
  return { pidFile };
}

// The SDK's launcher gave up on a file-backed server restarting under CI's load after its fixed
// five seconds (server-restart.test, 2026-12-05).
test('a dev server that takes longer than five seconds to answer is waited for', { skip: !realCli }, async (t) => {
  slowCli(t, 6, realCli);
  const [port] = (await freePorts(1)) as [number];
  const server = await startDevServer({ port });
  try {
    const connection = await Connection.connect({ address: server.address });
    const { keys } = await connection.operatorService.listSearchAttributes({ namespace: 'default' }).then((r) => ({
      keys: Object.keys(r.customAttributes ?? {}),
    }));
    await connection.close();
    assert.ok(keys.includes('WritState'), `Writ's search attributes are registered: ${keys.join(', ')}`);
  } finally {
    await server.teardown();
  }
  assert.equal(await isListening(port), false, 'the server is gone after teardown');
});

test('a dev server that cannot take its port fails at once with what the CLI said', { skip: !realCli }, async () => {
  // It accepts and drops every connection: the launcher's probes must not hold this process open.
  const holder = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as { port: number };
  try {
    await assert.rejects(startDevServer({ port, startupTimeoutMs: 600_000 }), (error: Error) => {
      assert.match(error.message, /exited with code \d+ before it answered on 127\.0\.0\.1:\d+/);
      assert.match(error.message, /address already in use/i, 'the CLI’s own words are in the error');
      return true;
    });
  } finally {
    holder.close();
  }
});

test('a dev server that never answers is stopped at the deadline and the error says so', async (t) => {
  const { pidFile } = slowCli(t, 600, null);
  const [port] = (await freePorts(1)) as [number];
  await assert.rejects(startDevServer({ port, startupTimeoutMs: 1500 }), (error: Error) => {
    assert.match(error.message, new RegExp(`did not answer on 127\\.0\\.0\\.1:${port} within 1\\.5 s and was stopped`));
    return true;
  });
  const pid = Number(readFileSync(pidFile, 'utf8'));
  assert.equal(isAlive(pid), false, `the CLI process ${pid} was stopped`);
});
