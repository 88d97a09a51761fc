/**
 * The load balancer in front of a Temporal cluster's frontends (a TCP one, as production puts an
 * NLB or HAProxy there): each new connection goes to the next frontend that accepts it, so
 * clients and workers reconnect to a live node when theirs dies. gRPC runs over it unchanged.
 */
import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';

export interface TcpBalancer {
  address: string;
  /** Connections handed to each backend so far. */
  counts: Map<string, number>;
  close(): Promise<void>;
}

function dial(backend: string): Promise<Socket> {
  const [host, port] = [
    backend.slice(0, backend.lastIndexOf(':')),
    Number(backend.slice(backend.lastIndexOf(':') + 1)),
  ];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => socket.destroy(new Error(`connect to ${backend} timed out`)), 2_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export async function startTcpBalancer(backends: string[], host = '127.0.0.1'): Promise<TcpBalancer> {
  let next = 0;
  const counts = new Map(backends.map((backend) => [backend, 0]));
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    client.pause();
    open.add(client);
    client.once('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    void (async () => {
      for (let tried = 0; tried < backends.length; tried++) {
        const backend = backends[next++ % backends.length]!;
        try {
          const upstream = await dial(backend);
          counts.set(backend, (counts.get(backend) ?? 0) + 1);
          open.add(upstream);
          upstream.once('close', () => {
            open.delete(upstream);
            client.destroy();
          });
          upstream.on('error', () => upstream.destroy());
          client.once('close', () => upstream.destroy());
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
          return;
        } catch {
          // that frontend is down: try the next one
        }
      }
      client.destroy();
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    address: `${host}:${port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
