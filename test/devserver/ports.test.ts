import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startDevServer } from '../../src/devserver/dev-server.js';
import { createServer } from 'node:net';
import { acceptsConnections, freePorts, isListening } from '../../src/net/ports.js';

test('freePorts hands out distinct ports, none of those to avoid, all free', async () => {
  const avoid = await freePorts(5);
  const ports = await freePorts(40, avoid);
  assert.equal(ports.length, 40);
  assert.equal(new Set(ports).size, 40, `a port was handed out twice: ${ports.join(', ')}`);
  for (const port of ports) assert.ok(!avoid.includes(port), `port ${port} was to be avoided`);
  for (const port of ports.slice(0, 5)) assert.equal(await isListening(port), false, `port ${port} is still held`);
});

test('acceptsConnections is true while a server listens and false once it has closed', async () => {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  assert.equal(await acceptsConnections(port), true, 'a listening server accepts');
  await new Promise((resolve) => server.close(resolve));
  assert.equal(await acceptsConnections(port), false, 'a closed port refuses');
});

// The CLI's HTTP API and metrics listeners took random ports of their own and once drew the gRPC
// port chosen for the server before it was bound: now every listener's port is named up front.
test('the dev server listens on its gRPC port and names its HTTP API and metrics ports', async () => {
  const [port] = (await freePorts(1)) as [number];
  const server = await startDevServer({ port });
  try {
    assert.equal(server.address, `127.0.0.1:${port}`);
    const metrics = await fetch(`http://127.0.0.1:${metricsPortOf(port)}/metrics`);
    assert.equal(metrics.status, 200, 'the metrics port was passed to the CLI and serves');
  } finally {
    await server.teardown();
  }
});

/** The dev server's command line, read from /proc: which --metrics-port it was given. */
function metricsPortOf(grpcPort: number): number {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const at = (flag: string) => args[args.indexOf(flag) + 1];
    if (args.includes('start-dev') && at('--port') === String(grpcPort) && args.includes('--metrics-port'))
      return Number(at('--metrics-port'));
  }
  throw new Error(`no dev server process on gRPC port ${grpcPort} was given --metrics-port`);
}
