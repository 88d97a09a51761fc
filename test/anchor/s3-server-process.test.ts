/**
 * The local S3 server (versitygw) that tests and the demo anchor in: it is ready only when it is
 * itself that answers, a server that cannot bind fails at once with its own words, and stopping it
 * leaves no process and frees its port.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { startLocalS3 } from '../../src/devserver/versitygw-server.js';
import { acceptsConnections, freePort, isListening } from '../../src/net/ports.js';
import { versitygwBinary } from '../support/local-s3.js';

const binary = await versitygwBinary();
const skip = binary ? false : 'versitygw is not installed and there is no Go to build it';

function scratchDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'writ-s3-process-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Something else on `port` that accepts connections and never answers them. */
async function squat(t: TestContext, port: number): Promise<Server> {
  const accepted = new Set<Socket>();
  const squatter = createServer((socket) => accepted.add(socket));
  await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
  t.after(async () => {
    // close() waits for the connections it accepted, which a squatter never ends itself.
    accepted.forEach((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
  });
  return squatter;
}

test('a versitygw whose port another process holds fails with its own words, not as ready', { skip }, async (t) => {
  const port = await freePort();
  await squat(t, port);
  assert.equal(await acceptsConnections(port), true, 'the port accepts connections, but not from versitygw');
  await assert.rejects(startLocalS3(binary!, scratchDir(t), { port }), (error: Error) => {
    assert.match(
      error.message,
      new RegExp(`^versitygw exited with code \\d+ before it answered on 127\\.0\\.0\\.1:${port}`),
    );
    assert.match(error.message, /address already in use/, 'what versitygw printed is in the error');
    return true;
  });
});

test('a started versitygw answers with its own credentials, and stopping it frees its port', { skip }, async (t) => {
  const s3 = await startLocalS3(binary!, scratchDir(t));
  t.after(() => s3.stop());
  const client = s3.client();
  try {
    assert.ok(Array.isArray((await client.send(new ListBucketsCommand({}))).Buckets ?? []));
  } finally {
    client.destroy();
  }
  await s3.stop();
  assert.equal(await isListening(s3.port), false, 'nothing listens on the port after stop');
  await s3.stop();
});
