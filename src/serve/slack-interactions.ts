import type { IncomingMessage, ServerResponse } from 'node:http';
import { peopleOf } from '../identity/people.js';
import type { ServeContext } from './context.js';
import { sendText } from './http.js';
import { parseButtonValue, SLACK_ACTIONS } from './slack-approval-message.js';
import type { SlackApprovals } from './slack-approvals.js';
import { decideFromSlack } from './slack-decide.js';
import type { SlackClick } from './slack-decide.js';
import { endpointOff, signedForm } from './slack-command.js';
import type { BlockActionsPayload } from './slack-payload.js';
import { parsePayload } from './slack-payload.js';
import { isTimelineAction, timelineInteraction } from './slack-timeline-modal.js';

/**
 * POST /slack/interactions: a click on an approval message's button, or on the Full timeline
 * button of a /what-happened answer and the modal's paging buttons. Everything that can refuse
 * the click without Temporal or the ledger is checked before the answer (Slack's signature, a
 * replay, the workspace, who the user is); the answer then goes out at once, well within Slack's 3
 * seconds, and the work follows: the decision, its outcome posted to the payload's response_url
 * and into the message, or the modal.
 */
export async function slackInteraction(
  ctx: ServeContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const off = endpointOff(ctx) ?? (ctx.slackApprovals || ctx.slackViews ? undefined : SLACK_APPROVALS_OFF);
  if (off) return sendText(response, 503, off);
  const form = await signedForm(ctx, request, response);
  if (!form) return;
  if (!ctx.slackSeen.first(String(request.headers['x-slack-signature']), ctx.now()))
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
  if (isTimelineAction(action?.action_id)) return timelineInteraction(ctx, payload, team, response);
  const kind =
    action?.action_id === SLACK_ACTIONS.approve
      ? 'approve'
      : action?.action_id === SLACK_ACTIONS.reject
        ? 'reject'
        : null;
  const target = parseButtonValue(action?.value);
  if (!kind || !target) return sendText(response, 400, 'Refused: the click is not on a Writ approval button');
  const approvals = ctx.slackApprovals;
  if (!approvals) return sendText(response, 503, SLACK_APPROVALS_OFF);
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
