import type { IncomingMessage, ServerResponse } from 'node:http';
import { peopleOf } from '../identity/people.js';
import type { ServeContext } from './context.js';
import { sendText } from './http.js';
import { parseButtonValue, SLACK_ACTIONS } from './slack-approval-message.js';
import type { SlackApprovals } from './slack-approvals.js';
import { decideFromSlack } from './slack-decide.js';
import type { SlackClick } from './slack-decide.js';
import { endpointOff, signedForm } from './slack-command.js';

interface BlockActionsPayload {
  type?: unknown;
  team?: { id?: unknown } | null;
  user?: { id?: unknown } | null;
  actions?: Array<{ action_id?: unknown; value?: unknown }>;
  response_url?: unknown;
}

function parsePayload(form: URLSearchParams): BlockActionsPayload | undefined {
  try {
    const payload: unknown = JSON.parse(form.get('payload') ?? '');
    return payload && typeof payload === 'object' ? (payload as BlockActionsPayload) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * POST /slack/interactions: a click on an approval message's button. Everything that can refuse
 * the click without Temporal is checked before the answer (Slack's signature, a replay, the
 * workspace, who the user is); the answer then goes out at once, well within Slack's 3 seconds, and
 * the decision follows, its outcome posted to the payload's response_url and into the message.
 */
export async function slackInteraction(
  ctx: ServeContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const approvals = ctx.slackApprovals;
  const off = endpointOff(ctx) ?? (approvals ? undefined : SLACK_APPROVALS_OFF);
  if (off || !approvals) return sendText(response, 503, off ?? SLACK_APPROVALS_OFF);
  const form = await signedForm(ctx, request, response);
  if (!form) return;
  if (!approvals.seen.first(String(request.headers['x-slack-signature']), ctx.now()))
    return sendText(response, 409, 'Refused: this Slack request was already handled (a replay)');
  const payload = parsePayload(form);
  if (!payload || payload.type !== 'block_actions')
    return sendText(response, 400, 'Refused: only block_actions payloads (button clicks) are handled here');
  const team = typeof payload.team?.id === 'string' ? payload.team.id : '';
  if (!ctx.slackTeamIds.has(team))
    return sendText(response, 403, `Refused: this server does not answer Slack workspace ${JSON.stringify(team)}`);
  const action = payload.actions?.[0];
  // A link button is followed by the user's browser; Slack still tells the app, which only acknowledges.
  if (action?.action_id === SLACK_ACTIONS.openPage) return sendText(response, 200, '');
  const kind =
    action?.action_id === SLACK_ACTIONS.approve
      ? 'approve'
      : action?.action_id === SLACK_ACTIONS.reject
        ? 'reject'
        : null;
  const target = parseButtonValue(action?.value);
  if (!kind || !target) return sendText(response, 400, 'Refused: the click is not on a Writ approval button');
  const click = await clickOf(approvals, team, payload, kind, target);
  if ('refusal' in click) return sendText(response, 403, `Refused: ${click.refusal}`);
  sendText(response, 200, '');
  ctx.background(decideFromSlack(ctx, approvals, click));
}

export const SLACK_APPROVALS_OFF =
  'Slack approvals are off: set WRIT_SLACK_BOT_TOKEN, WRIT_SLACK_CHANNEL, WRIT_CHANNEL_KEY and WRIT_APPROVERS_FILE and restart writ serve.';

async function clickOf(
  approvals: SlackApprovals,
  team: string,
  payload: BlockActionsPayload,
  kind: 'approve' | 'reject',
  target: { operationId: string; digest: string },
): Promise<SlackClick | { refusal: string }> {
  const user = typeof payload.user?.id === 'string' ? payload.user.id : '';
  const people = peopleOf((await approvals.directory()).content);
  const person = user ? people.bySlack(team, user) : undefined;
  if (!person) return { refusal: `Slack user ${JSON.stringify(user)} of ${team} is nobody in the approver directory` };
  const responseUrl = typeof payload.response_url === 'string' ? payload.response_url : undefined;
  return { kind, ...target, person: person.id, slack: { team, user }, ...(responseUrl ? { responseUrl } : {}) };
}
