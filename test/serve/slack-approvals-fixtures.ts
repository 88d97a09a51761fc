import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OperationRequestInput } from '../../src/model/request.js';
import { parseRequest } from '../../src/model/request.js';
import { slackSignature } from '../../src/serve/slack-signature.js';
import { requestMessage } from '../../src/verify/request-signature.js';
import type { StoredMessage } from '../support/slack-api-server.js';
import { SLACK_SECRET } from './fixtures.js';

export const TEAM = 'T0001';
export const CHANNEL = 'CAPPROVALS';
export const CHANNEL_NAME = 'writ-serve';

const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();

/** Alice signs her requests; the channel key is what `writ serve` signs Slack decisions with. */
export function keys() {
  const alice = generateKeyPairSync('ed25519');
  const channel = generateKeyPairSync('ed25519');
  const dir = mkdtempSync(join(tmpdir(), 'writ-slack-'));
  const channelKeyPath = join(dir, 'channel.key');
  writeFileSync(channelKeyPath, channel.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), {
    mode: 0o600,
  });
  return { alice, channelPublicPem: pem(channel.publicKey), alicePublicPem: pem(alice.publicKey), channelKeyPath };
}

export function directory(made: ReturnType<typeof keys>) {
  return {
    approvers: [
      { id: 'alice', groups: ['managers'], publicKey: made.alicePublicPem, slack: [{ team: TEAM, user: 'UALICE' }] },
      { id: 'bob', groups: ['managers'], slack: [{ team: TEAM, user: 'UBOB' }] },
      { id: 'carol', groups: ['managers'], slack: [{ team: TEAM, user: 'UCAROL' }] },
    ],
    channels: [{ name: CHANNEL_NAME, publicKey: made.channelPublicPem }],
    slackTeams: [TEAM],
  };
}

/** Identities verified (the default): requests are signed, decisions carry proofs. */
export const policy = {
  id: 'slack-approvals',
  rules: [
    {
      name: 'a-manager-approves',
      match: {},
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], windowMs: 600_000 },
    },
    {
      name: 'two-managers-when-asked',
      match: {},
      optIn: { labels: { review: 'two' } },
      risk: 'high',
      approvals: { required: 2, fromGroups: ['managers'], windowMs: 600_000 },
    },
    {
      name: 'expires-quickly-when-asked',
      match: {},
      optIn: { labels: { review: 'quick' } },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], windowMs: 5000 },
    },
    {
      name: 'single-sign-on-when-asked',
      match: {},
      optIn: { labels: { review: 'sso' } },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], sso: true, windowMs: 600_000 },
    },
  ],
};

/** Alice's request, signed with her key as the worker will check it. */
export function signedRequest(alicePrivate: KeyObject, operationId: string, labels?: Record<string, string>) {
  const input: OperationRequestInput = {
    operationId,
    actor: { id: 'alice', kind: 'user' },
    intent: 'raise Acme to gold after renewal',
    steps: [
      { connector: 'postgres', action: 'update', target: 'public.accounts/42', params: { set: { tier: 'gold' } } },
    ],
    ...(labels ? { labels } : {}),
  };
  const parsed = parseRequest(input);
  if (!parsed.ok) throw new Error(parsed.problem);
  const message = requestMessage({ ...parsed.request, operationId });
  return {
    ...input,
    identity: { kind: 'key' as const, signature: sign(null, message, alicePrivate).toString('base64') },
  };
}

/** A button click as Slack sends it: a block_actions payload, form-encoded, signed over the raw body. */
export function click(options: {
  action: 'writ_approve' | 'writ_reject';
  value: string;
  user: string;
  team?: string;
  responseUrl: string;
  messageTs?: string;
}): string {
  const team = options.team ?? TEAM;
  const payload = {
    type: 'block_actions',
    team: { id: team, domain: 'acme' },
    user: { id: options.user, username: options.user.toLowerCase(), name: options.user.toLowerCase(), team_id: team },
    api_app_id: 'AWRIT',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: options.messageTs ?? '1.0', channel_id: CHANNEL, is_ephemeral: false },
    trigger_id: '123.456.abc',
    channel: { id: CHANNEL, name: 'approvals' },
    response_url: options.responseUrl,
    actions: [
      {
        action_id: options.action,
        block_id: 'writ',
        text: { type: 'plain_text', text: options.action === 'writ_approve' ? 'Approve' : 'Reject' },
        value: options.value,
        type: 'button',
        action_ts: '1700000000.000001',
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export function slackHeaders(body: string, timestamp: number, secret = SLACK_SECRET): Record<string, string> {
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(secret, String(timestamp), body),
  };
}

type Block = { type: string; elements?: Array<Record<string, unknown>> };

/** The buttons of a message's actions blocks. */
export const buttonsOf = (message: StoredMessage) =>
  (message.blocks as Block[]).filter((block) => block.type === 'actions').flatMap((block) => block.elements ?? []);
