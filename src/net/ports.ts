import type { Server } from 'node:net';
import { connect, createServer } from 'node:net';

/** A port nothing listens on right now (the OS picks it), for servers that need one named up front. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, [], host);
  return port!;
}

/**
 * Several ports nothing listens on, all different and none in `avoid`: each is held open until all
 * are chosen, so the OS cannot hand out one twice (as separate `freePort()` calls can, when the
 * first port is not yet bound by the server it was chosen for).
 */
export async function freePorts(count: number, avoid: Iterable<number> = [], host = '127.0.0.1'): Promise<number[]> {
  const avoided = new Set(avoid);
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = await listenOnAnyPort(host);
      held.push(server);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      if (!port) throw new Error('the OS gave no free port');
      if (!avoided.has(port)) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

function listenOnAnyPort(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}

/** True when host:port cannot be bound: something holds it (the question before taking a port). */
export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, host, () => server.close(() => resolve(false)));
  });
}

/**
 * True when something accepts a TCP connection on host:port: the question while waiting for a
 * server to come up. `isListening` would bind the port for a moment, which can make the server's
 * own bind fail if it comes at that moment.
 */
export function acceptsConnections(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
