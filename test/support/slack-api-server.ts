/**
 * A local stand-in for Slack, over real HTTP on 127.0.0.1, speaking the documented shapes of the
 * Web API methods Writ calls (auth.test, chat.postMessage, chat.update, conversations.history,
 * views.open, views.update, views.push: form-encoded or JSON bodies, bearer token, `{ ok, ... }`
 * answers) and of response_url posts. It keeps the channel's messages and the open views, refuses
 * views past Slack's limits and trigger ids used twice as Slack does, and records every call.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { viewProblems } from './slack-view-limits.js';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Array<Record<string, unknown>>;
  bot_id: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

export interface StoredView {
  id: string;
  hash: string;
  /** The view as the app sent it, last update included. */
  view: Record<string, unknown>;
}

export interface SlackApiServer {
  /** `http://127.0.0.1:<port>`; the Web API is under `/api/`. */
  url: string;
  token: string;
  botId: string;
  calls: SlackCall[];
  messages: StoredMessage[];
  /** Views opened or pushed, each as last updated. */
  views: StoredView[];
  /** What was posted to each response_url (`<url>/response/<name>`), in order. */
  responses: Array<{ path: string; body: Record<string, unknown> }>;
  responseUrl(name: string): string;
  close(): Promise<void>;
}

async function bodyOf(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if ((request.headers['content-type'] ?? '').startsWith('application/json')) return raw ? JSON.parse(raw) : {};
  // Slack's form encoding: objects and arrays (blocks, metadata) arrive as JSON text.
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    args[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return args;
}

export async function startSlackApiServer(options: { token?: string; botId?: string } = {}): Promise<SlackApiServer> {
  const token = options.token ?? 'xoxb-writ-test';
  const botId = options.botId ?? 'BWRIT';
  const calls: SlackCall[] = [];
  const messages: StoredMessage[] = [];
  const responses: SlackApiServer['responses'] = [];
  let clock = 1_700_000_000;
  const views = viewMethods();

  const methods: Record<string, (args: Record<string, unknown>) => Record<string, unknown>> = {
    'auth.test': () => ({
      ok: true,
      url: 'https://acme.slack.com/',
      team: 'Acme',
      team_id: 'T0001',
      user_id: 'UBOT',
      bot_id: botId,
    }),
    'chat.postMessage': (args) => {
      if (typeof args.channel !== 'string') return { ok: false, error: 'channel_not_found' };
      const message: StoredMessage = {
        channel: args.channel,
        ts: `${++clock}.000100`,
        text: String(args.text ?? ''),
        blocks: (args.blocks as StoredMessage['blocks']) ?? [],
        bot_id: botId,
        ...(args.metadata ? { metadata: args.metadata as StoredMessage['metadata'] } : {}),
      };
      messages.push(message);
      return { ok: true, channel: message.channel, ts: message.ts, message: { ...message, type: 'message' } };
    },
    'chat.update': (args) => {
      const message = messages.find((held) => held.channel === args.channel && held.ts === args.ts);
      if (!message) return { ok: false, error: 'message_not_found' };
      message.text = String(args.text ?? message.text);
      if (args.blocks) message.blocks = args.blocks as StoredMessage['blocks'];
      if (args.metadata) message.metadata = args.metadata as StoredMessage['metadata'];
      return { ok: true, channel: message.channel, ts: message.ts, text: message.text };
    },
    'conversations.history': (args) => {
      const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
      const found = messages
        .filter((message) => message.channel === args.channel)
        .reverse()
        .map(({ metadata, channel: _channel, ...message }) => ({
          type: 'message',
          ...message,
          ...(withMetadata && metadata ? { metadata } : {}),
        }));
      return { ok: true, messages: found, has_more: false, response_metadata: { next_cursor: '' } };
    },
    ...views.methods,
  };

  const answer = (response: ServerResponse, status: number, value: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify(value));
  };
  const server = createServer((request, response) => {
    void (async () => {
      const path = (request.url ?? '/').split('?')[0]!;
      const args = await bodyOf(request);
      if (path.startsWith('/response/')) {
        responses.push({ path, body: args });
        return answer(response, 200, { ok: true });
      }
      const method = methods[path.replace(/^\/api\//, '')];
      if (!method) return answer(response, 404, { ok: false, error: 'unknown_method' });
      if (request.headers.authorization !== `Bearer ${token}`)
        return answer(response, 200, { ok: false, error: 'invalid_auth' });
      calls.push({ method: path.replace(/^\/api\//, ''), args });
      answer(response, 200, method(args));
    })().catch((error: unknown) => answer(response, 500, { ok: false, error: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    token,
    botId,
    calls,
    messages,
    views: views.views,
    responses,
    responseUrl: (name) => `${url}/response/${name}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** views.open, views.push (a trigger_id, once) and views.update (a view_id, and its hash when given). */
function viewMethods() {
  const views: StoredView[] = [];
  const triggers = new Set<string>();
  let counter = 0;
  const refused = (args: Record<string, unknown>) => {
    const problems = viewProblems(args.view);
    return problems.length
      ? { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) } }
      : undefined;
  };
  const answer = (stored: StoredView) => ({ ok: true, view: { ...stored.view, id: stored.id, hash: stored.hash } });
  const open = (args: Record<string, unknown>) => {
    if (typeof args.trigger_id !== 'string' || !args.trigger_id) return { ok: false, error: 'invalid_trigger_id' };
    if (triggers.has(args.trigger_id)) return { ok: false, error: 'exchanged_trigger_id' };
    const refusal = refused(args);
    if (refusal) return refusal;
    triggers.add(args.trigger_id);
    const stored = {
      id: `V${String(++counter).padStart(8, '0')}`,
      hash: `${counter}.hash`,
      view: args.view as Record<string, unknown>,
    };
    views.push(stored);
    return answer(stored);
  };
  const methods: Record<string, (args: Record<string, unknown>) => Record<string, unknown>> = {
    'views.open': open,
    'views.push': open,
    'views.update': (args) => {
      const stored = views.find((view) => view.id === args.view_id);
      if (!stored) return { ok: false, error: 'not_found' };
      if (args.hash !== undefined && args.hash !== stored.hash) return { ok: false, error: 'hash_conflict' };
      const refusal = refused(args);
      if (refusal) return refusal;
      stored.view = args.view as Record<string, unknown>;
      stored.hash = `${++counter}.hash`;
      return answer(stored);
    },
  };
  return { views, methods };
}
