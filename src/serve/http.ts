import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { problemPage } from './page-layout.js';
import { WritError } from '../model/errors.js';

/**
 * Sent with everything: nothing is cached (the pages carry who asked and signed links), nothing
 * is fetched from elsewhere or framed, and no Referer carries a signed link to another site.
 */
const BASE_HEADERS: OutgoingHttpHeaders = {
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

export function send(
  response: ServerResponse,
  status: number,
  body: string | Buffer,
  headers: OutgoingHttpHeaders,
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  response.writeHead(status, { ...BASE_HEADERS, ...headers, 'content-length': bytes.length });
  response.end(response.req.method === 'HEAD' ? undefined : bytes);
}

export function sendHtml(response: ServerResponse, status: number, body: string): void {
  send(response, status, body, { 'content-type': 'text/html; charset=utf-8' });
}

export function sendText(
  response: ServerResponse,
  status: number,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  send(response, status, `${message}\n`, { 'content-type': 'text/plain; charset=utf-8', ...headers });
}

export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, JSON.stringify(value), { 'content-type': 'application/json; charset=utf-8' });
}

/** Refusals for people reach them as a page; for programs (curl, downloads) as one line of text. */
export function sendProblem(
  response: ServerResponse,
  status: number,
  title: string,
  message: string,
  asPage: boolean,
): void {
  if (asPage) sendHtml(response, status, problemPage(status, title, message));
  else sendText(response, status, `${title}: ${message}`);
}

export class BodyTooLarge extends WritError {
  override readonly name = 'BodyTooLarge';
  constructor(message: string) {
    super('BODY_TOO_LARGE', message);
  }
}

/**
 * The raw bytes, as a signature covers them. Past `limit` the rest is discarded unread and the
 * caller answers 413 (with Connection: close, so the sender cannot keep streaming).
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) reject(new BodyTooLarge(`the request body is larger than ${limit} bytes`));
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
