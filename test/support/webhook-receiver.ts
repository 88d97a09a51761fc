/**
 * A webhook receiver over real HTTP on 127.0.0.1 that behaves as the webhook connector expects:
 * it records each message once per Idempotency-Key (a repeat is acknowledged again), checks the
 * HMAC signature when it has a secret, and answers `{ received: true, id }`. Faults (503s, lost
 * answers, hangs) are injected by the test.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonObject } from '../../src/model/json.js';

export interface ReceivedMessage {
  idempotencyKey: string;
  /** The raw body, exactly as it arrived (what a signature covers). */
  raw: string;
  body: JsonObject;
  signature: string | undefined;
}

export interface WebhookReceiver {
  url: string;
  /** Messages recorded, once per Idempotency-Key, in the order they arrived. */
  messages: ReceivedMessage[];
  /** Every request that reached the receiver, repeats and faults included. */
  requests(): number;
  /** Requests refused because their signature did not verify. */
  rejectedSignatures(): number;
  /** Notifications (kind 'notification') recorded for a channel. */
  notifications(channel: string): JsonObject[];
  /** Corrections (kind 'correction') recorded for a channel. */
  corrections(channel: string): JsonObject[];
  /**
   * The next `n` requests get `status`. With `afterRecording`, the message is recorded first and
   * only the answer is lost, as when a receiver fails after committing.
   */
  failNext(n: number, status?: number, options?: { afterRecording?: boolean }): void;
  /** The next `n` requests are recorded and never answered (until the receiver closes). */
  hangNext(n: number): void;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body: JsonObject;
}

const signatureOf = (secret: string, raw: string) =>
  `sha256=${createHmac('sha256', secret).update(raw, 'utf8').digest('hex')}`;

const signatureMatches = (expected: string, given: string | undefined) =>
  given !== undefined && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));

export async function startWebhookReceiver(options: { secret?: string } = {}): Promise<WebhookReceiver> {
  const messages: ReceivedMessage[] = [];
  const answered = new Map<string, Answer>();
  const hung = new Set<ServerResponse>();
  let requests = 0;
  let rejected = 0;
  let failures = { remaining: 0, status: 503, afterRecording: false };
  let hangs = 0;

  const answer = (response: ServerResponse, { status, body }: Answer) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };

  /** Records a new message, or finds the answer given to its key before. */
  const record = (key: string, raw: string, body: JsonObject, signature: string | undefined): Answer => {
    const earlier = answered.get(key);
    if (earlier) return earlier;
    messages.push({ idempotencyKey: key, raw, body, signature });
    const result = { status: 200, body: { received: true, id: body.id ?? null } };
    answered.set(key, result);
    return result;
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests++;
      const raw = Buffer.concat(chunks).toString('utf8');
      const header = request.headers['x-writ-signature'];
      const signature = typeof header === 'string' ? header : undefined;
      const key = request.headers['idempotency-key'];
      if (request.method !== 'POST') return answer(response, { status: 405, body: { error: 'POST only' } });
      if (options.secret !== undefined && !signatureMatches(signatureOf(options.secret, raw), signature)) {
        rejected++;
        return answer(response, { status: 401, body: { error: 'the signature does not verify' } });
      }
      if (typeof key !== 'string' || key === '')
        return answer(response, { status: 400, body: { error: 'Idempotency-Key is required' } });
      let body: JsonObject;
      try {
        body = JSON.parse(raw) as JsonObject;
      } catch {
        return answer(response, { status: 400, body: { error: 'the body is not JSON' } });
      }

      const fault = failures.remaining > 0 ? (failures.remaining--, failures) : undefined;
      if (fault && !fault.afterRecording)
        return answer(response, { status: fault.status, body: { error: 'injected failure' } });
      const result = record(key, raw, body, signature);
      if (hangs > 0) {
        hangs--;
        hung.add(response);
        response.on('close', () => hung.delete(response));
        return;
      }
      answer(response, fault ? { status: fault.status, body: { error: 'injected failure after recording' } } : result);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const ofKind = (kind: string, channel: string) =>
    messages.map((m) => m.body).filter((body) => body.kind === kind && body.channel === channel);

  return {
    url: `http://127.0.0.1:${port}/hooks/writ`,
    messages,
    requests: () => requests,
    rejectedSignatures: () => rejected,
    notifications: (channel) => ofKind('notification', channel),
    corrections: (channel) => ofKind('correction', channel),
    failNext: (n, status = 503, faultOptions = {}) =>
      void (failures = { remaining: n, status, afterRecording: faultOptions.afterRecording ?? false }),
    hangNext: (n) => void (hangs = n),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const response of hung) response.destroy();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
