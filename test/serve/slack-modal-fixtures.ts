import assert from 'node:assert/strict';
import type pg from 'pg';
import type { StoredView } from '../support/slack-api-server.js';
import { viewProblems } from '../support/slack-view-limits.js';

export const TEAM = 'T0001';
/** Who typed /what-happened; the button may be pressed by someone else, who is then the reader. */
export const ASKER = 'U2147483697';

type Block = { type: string; text?: { text: string }; elements?: Array<Record<string, unknown>> };

/** A /what-happened command as Slack sends it, form-encoded. */
export function commandBody(id: string, user = ASKER): string {
  return new URLSearchParams({
    team_id: TEAM,
    team_domain: 'acme',
    channel_id: 'C1',
    user_id: user,
    user_name: 'dana',
    command: '/what-happened',
    text: id,
    response_url: 'https://hooks.slack.com/commands/T1/1/x',
    trigger_id: '1.2.3',
  }).toString();
}

/**
 * A block_actions payload as Slack sends it for a click, form-encoded: on the Full timeline button
 * of an ephemeral answer (a message container, with a response_url), or inside a modal (the view
 * as Slack holds it: its id, hash, callback_id and private_metadata; no response_url).
 */
export function clickBody(options: {
  action: string;
  value?: string;
  trigger: string;
  user?: string;
  team?: string;
  view?: StoredView;
}): string {
  const team = options.team ?? TEAM;
  const user = options.user ?? ASKER;
  const view = options.view;
  const payload = {
    type: 'block_actions',
    team: { id: team, domain: 'acme' },
    user: { id: user, username: 'dana', name: 'dana', team_id: team },
    api_app_id: 'AWRIT',
    token: 'legacy-verification-token',
    trigger_id: options.trigger,
    ...(view
      ? {
          container: { type: 'view', view_id: view.id },
          view: {
            id: view.id,
            team_id: team,
            type: 'modal',
            hash: view.hash,
            callback_id: view.view.callback_id,
            private_metadata: view.view.private_metadata,
            blocks: view.view.blocks,
          },
        }
      : {
          container: { type: 'message', message_ts: '1.0', channel_id: 'C1', is_ephemeral: true },
          channel: { id: 'C1', name: 'ops' },
          response_url: 'https://hooks.slack.com/actions/T1/1/y',
        }),
    actions: [
      {
        action_id: options.action,
        block_id: 'writ',
        text: { type: 'plain_text', text: 'button' },
        ...(options.value !== undefined ? { value: options.value } : {}),
        type: 'button',
        action_ts: '1700000000.000001',
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Every text a view shows, one string per block. */
export function textsOf(view: Record<string, unknown>): string[] {
  return (view.blocks as Block[]).map((block) =>
    block.text ? block.text.text : (block.elements ?? []).map((e) => String(e.text ?? '')).join(' '),
  );
}

export function buttonsOf(view: Record<string, unknown>): string[] {
  return (view.blocks as Block[])
    .filter((block) => block.type === 'actions')
    .flatMap((block) => (block.elements ?? []).map((e) => String(e.action_id)));
}

/**
 * A page as Slack's limits and Writ's promise want it: Slack would take it, and its last block is
 * the signed timeline link, made for `requester`.
 */
export function assertPage(view: Record<string, unknown>, requester: string): URL {
  assert.deepEqual(viewProblems(view), [], "Slack's limits on a modal");
  const blocks = view.blocks as Block[];
  assert.ok(blocks.length <= 100);
  const last = blocks.at(-1)!;
  assert.equal(last.type, 'section');
  const link = /<(http[^|>]+)\|Open the timeline page>/.exec(last.text!.text);
  assert.ok(link, `the last block is the signed timeline link: ${last.text!.text}`);
  const url = new URL(link[1]!.replace(/&amp;/g, '&'));
  assert.equal(url.pathname, '/evidence/timeline');
  assert.equal(url.searchParams.get('by'), requester);
  return url;
}

/** The seqs of the events a view lists (`*#<seq>*` at the start of an event's block). */
export function eventSeqs(view: Record<string, unknown>): number[] {
  return textsOf(view).flatMap((text) => {
    const match = /^\*#(\d+)\* · /.exec(text);
    return match ? [Number(match[1])] : [];
  });
}

export async function accessRecords(
  pool: pg.Pool,
  id: string,
): Promise<Array<{ actor: { id: string }; payload: Record<string, unknown> }>> {
  const { rows } = await pool.query(
    `SELECT record FROM writ.records WHERE record->>'type' LIKE 'evidence.%' AND record->'payload'->>'id' = $1 ORDER BY seq`,
    [id],
  );
  return rows.map((row: { record: { actor: { id: string }; payload: Record<string, unknown> } }) => row.record);
}
