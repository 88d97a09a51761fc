/**
 * A REST API of JSON resources held in memory, served over real HTTP on 127.0.0.1, that behaves
 * as the HTTP connector expects an API to: strong ETags, If-Match and If-None-Match preconditions,
 * JSON merge patch, and Idempotency-Key replays. Faults (503s, hangs) and changes behind the
 * connector's back are injected by the test.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mergePatch } from '../../src/connectors/http/merge-patch.js';
import { canonicalText } from '../../src/verify/canonical.js';
import type { Json } from '../../src/model/json.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RestServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  url: string;
  /** Resources by URL path, e.g. `/api/accounts/42`. */
  resources: Map<string, Json>;
  /** Every request in the order it arrived, faults included. */
  received: ReceivedRequest[];
  /** How many writes to `path` took effect (replays and refusals do not count). */
  appliedWrites(path: string): number;
  /**
   * The next `n` requests get `status`. With `writes`, only writes count (a rollback reads first);
   * with `afterApplying` (writes only), the write takes effect and only its answer is lost.
   */
  failNext(n: number, status?: number, options?: { writes?: boolean; afterApplying?: boolean }): void;
  /** The next `n` requests are never answered (until the server closes). */
  hangNext(n: number): void;
  /** Another writer: changes (or with null, deletes) a resource without counting as an applied write. */
  setResource(path: string, body: Json): void;
  /**
   * The API's own rules: every write to `path` stores what `rewrite` makes of the resource it
   * would have stored (undefined: absent), and answers with that; null removes the rule.
   */
  rewriteWrites(
    path: string,
    rewrite: ((next: Json | undefined, current: Json | undefined) => Json | undefined) | null,
  ): void;
  close(): Promise<void>;
}

export const etagOf = (body: Json) => `"${createHash('sha256').update(canonicalText(body)).digest('base64url')}"`;

const json = (status: number, body: Json, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const problem = (status: number, detail: string) => json(status, { title: detail });

/** RFC 9110's conditions, evaluated against the current resource (undefined: absent). */
function preconditionFails(request: IncomingMessage, current: Json | undefined): boolean {
  const ifMatch = request.headers['if-match'];
  if (ifMatch !== undefined) {
    if (current === undefined) return true;
    if (
      ifMatch.trim() !== '*' &&
      !ifMatch
        .split(',')
        .map((tag) => tag.trim())
        .includes(etagOf(current))
    )
      return true;
  }
  const ifNoneMatch = request.headers['if-none-match'];
  return ifNoneMatch !== undefined && ifNoneMatch.trim() === '*' && current !== undefined;
}

export async function startRestServer(): Promise<RestServer> {
  const resources = new Map<string, Json>();
  const received: ReceivedRequest[] = [];
  const applied = new Map<string, number>();
  // What each key was first used for, so a key reused for a different request is refused.
  const remembered = new Map<string, { fingerprint: string; answer: Answer }>();
  const hung = new Set<ServerResponse>();
  let failures = { remaining: 0, status: 503, writes: false, afterApplying: false };
  let hangs = 0;
  const rewrites = new Map<string, (next: Json | undefined, current: Json | undefined) => Json | undefined>();

  const apply = (request: IncomingMessage, path: string, text: string): Answer => {
    const current = resources.get(path);
    if (request.method === 'GET')
      return current === undefined ? problem(404, 'not found') : json(200, current, { etag: etagOf(current) });
    if (!['PUT', 'PATCH', 'DELETE'].includes(request.method ?? '')) return problem(405, 'method not allowed');
    if (preconditionFails(request, current)) return problem(412, 'precondition failed');
    let body: Json = null;
    if (request.method !== 'DELETE') {
      try {
        body = JSON.parse(text) as Json;
      } catch {
        return problem(400, 'the body is not JSON');
      }
    }
    let next: Json | undefined;
    let status = 200;
    if (request.method === 'PUT') {
      next = body;
      status = current === undefined ? 201 : 200;
    } else if (request.method === 'PATCH') {
      if (!/^application\/merge-patch\+json/.test(request.headers['content-type'] ?? ''))
        return problem(415, 'PATCH takes application/merge-patch+json');
      if (current === undefined) return problem(404, 'not found');
      next = mergePatch(current, body);
    } else {
      if (current === undefined) return problem(404, 'not found');
      status = 204;
    }
    const rewrite = rewrites.get(path);
    if (rewrite) next = rewrite(next, current);
    if (next === undefined) resources.delete(path);
    else resources.set(path, next);
    applied.set(path, (applied.get(path) ?? 0) + 1);
    if (next === undefined) return { status, headers: {}, body: '' };
    return json(status, next, { etag: etagOf(next) });
  };

  const answer = (response: ServerResponse, { status, headers, body }: Answer) => {
    response.writeHead(status, headers);
    response.end(body);
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const key = request.headers['idempotency-key'];
      const idempotencyKey = typeof key === 'string' ? key : undefined;
      received.push({
        method: request.method ?? '',
        path,
        idempotencyKey,
        headers: { ...request.headers },
        body: text,
      });

      if (hangs > 0) {
        hangs--;
        hung.add(response);
        response.on('close', () => hung.delete(response));
        return;
      }
      const fails = failures.remaining > 0 && (request.method !== 'GET' || !failures.writes);
      const fault = fails ? (failures.remaining--, failures) : undefined;
      if (fault && !fault.afterApplying) return answer(response, problem(fault.status, 'injected failure'));

      let result: Answer;
      const fingerprint = `${request.method} ${path} ${text}`;
      const earlier =
        idempotencyKey === undefined || request.method === 'GET' ? undefined : remembered.get(idempotencyKey);
      if (earlier) {
        result =
          earlier.fingerprint === fingerprint
            ? { ...earlier.answer, headers: { ...earlier.answer.headers, 'idempotent-replayed': 'true' } }
            : problem(422, 'this Idempotency-Key was used for a different request');
      } else {
        result = apply(request, path, text);
        // Only writes that took effect are remembered: a refused one may be sent again once fixed.
        if (idempotencyKey !== undefined && request.method !== 'GET' && result.status < 300)
          remembered.set(idempotencyKey, { fingerprint, answer: result });
      }
      answer(response, fault ? problem(fault.status, 'injected failure after applying') : result);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    resources,
    received,
    appliedWrites: (path) => applied.get(path) ?? 0,
    failNext: (n, status = 503, options = {}) => {
      const afterApplying = options.afterApplying ?? false;
      failures = { remaining: n, status, afterApplying, writes: afterApplying || (options.writes ?? false) };
    },
    hangNext: (n) => void (hangs = n),
    setResource: (path, body) => void (body === null ? resources.delete(path) : resources.set(path, body)),
    rewriteWrites: (path, rewrite) => void (rewrite ? rewrites.set(path, rewrite) : rewrites.delete(path)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const response of hung) response.destroy();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
