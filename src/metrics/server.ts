import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { Registry } from 'prom-client';
import { WritError, ensureError } from '../model/errors.js';

export interface MetricsServer {
  /** http://host:port/metrics, with the port the OS gave when 0 was asked for. */
  url: string;
  close(): Promise<void>;
}

/** GET /metrics in the Prometheus text format; nothing else is served. */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://metrics').pathname;
    if (path !== '/metrics')
      return void response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return void response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET only\n');
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) =>
        response
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`metrics failed: ${ensureError(error).message}\n`),
    );
  });
  await listen(server, host, port);
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // A scraper keeps its connection alive between scrapes; it must not hold the worker open.
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new WritError(
          'CONFIG',
          `cannot serve metrics on ${host}:${port}: ${error.message}`,
          'Choose a free port with WRIT_METRICS_PORT (and an address of this machine with WRIT_METRICS_HOST).',
          { cause: error },
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
}
