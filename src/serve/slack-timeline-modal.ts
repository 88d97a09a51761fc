import type { ServerResponse } from 'node:http';
import { isOperatorProblem } from '../model/errors.js';
import { modalAccessDraft, recordAccess } from './access-record.js';
import type { ServeContext } from './context.js';
import { idProblem } from './evidence.js';
import { withEvents } from './evidence-routes.js';
import { sendText } from './http.js';
import { issueLinks } from './issue-links.js';
import { slackRequester } from './slack-command.js';
import { tellUser } from './slack-decide.js';
import { slackEscape } from './slack-message.js';
import type { BlockActionsPayload } from './slack-payload.js';
import { text } from './slack-payload.js';
import { timelineBlocks } from './slack-timeline-blocks.js';
import type { SlackViews } from './slack-views.js';
import { TIMELINE_ACTIONS, TIMELINE_CALLBACK_ID, parsePlace, timelinePage } from './slack-timeline-view.js';

export const SLACK_VIEWS_OFF =
  'The Full timeline button is off: set WRIT_SLACK_BOT_TOKEN (the bot token views.open is called with) and restart writ serve.';

const ACTION_IDS: ReadonlySet<unknown> = new Set(Object.values(TIMELINE_ACTIONS));

export function isTimelineAction(actionId: unknown): boolean {
  return ACTION_IDS.has(actionId);
}

/** A click that asks for one page of one id's timeline, after every check that needs no lookup. */
interface TimelineClick {
  id: string;
  page: number;
  team: string;
  user: string;
  show: { triggerId: string } | { viewId: string; hash?: string };
  responseUrl?: string;
}

/**
 * A click on "Full timeline" in a /what-happened answer, or on "Next"/"Previous" inside the modal.
 * The caller has checked Slack's signature, the replay memory and the workspace. What the click
 * carries (the id, the page) is Slack's echo of what this server wrote, and is checked again as if
 * it were new: the user is re-authorised exactly as for the slash command (a pinned workspace and a
 * user id; the id is looked up and recorded under that user), the page is a page of the timeline
 * as it is now. Slack is answered at once; the page is recorded in the ledger, then shown.
 */
export function timelineInteraction(
  ctx: ServeContext,
  payload: BlockActionsPayload,
  team: string,
  response: ServerResponse,
): void {
  const views = ctx.slackViews;
  if (!views) return sendText(response, 503, SLACK_VIEWS_OFF);
  const click = timelineClick(payload, team);
  if ('refusal' in click) return sendText(response, 400, `Refused: ${click.refusal}`);
  sendText(response, 200, '');
  ctx.background(showTimeline(ctx, views, click));
}

function timelineClick(payload: BlockActionsPayload, team: string): TimelineClick | { refusal: string } {
  const user = text(payload.user?.id);
  if (!user) return { refusal: 'the click carries no user id, so there is nobody to show the timeline to' };
  const action = payload.actions?.[0];
  const responseUrl = text(payload.response_url);
  const common = { team, user, ...(responseUrl ? { responseUrl } : {}) };
  if (action?.action_id === TIMELINE_ACTIONS.open) {
    const id = typeof action.value === 'string' ? action.value : '';
    const problem = idProblem(id);
    if (problem) return { refusal: `the button's id: ${problem}` };
    const triggerId = text(payload.trigger_id);
    if (!triggerId) return { refusal: 'the click carries no trigger_id, so no modal can be opened' };
    return { ...common, id, page: 1, show: { triggerId } };
  }
  const view = payload.view;
  const place = view?.callback_id === TIMELINE_CALLBACK_ID ? parsePlace(view.private_metadata) : undefined;
  const viewId = text(view?.id);
  if (!place || !viewId) return { refusal: 'the click is not inside a Writ timeline modal' };
  const problem = idProblem(place.id);
  if (problem) return { refusal: `the modal's id: ${problem}` };
  const page = place.page + (action?.action_id === TIMELINE_ACTIONS.next ? 1 : -1);
  if (page < 1) return { refusal: 'there is no page before the first' };
  const hash = text(view?.hash);
  return { ...common, id: place.id, page, show: { viewId, ...(hash ? { hash } : {}) } };
}

/** Never rejects: a failure is logged, and told to the user where the click left a response_url. */
async function showTimeline(ctx: ServeContext, views: SlackViews, click: TimelineClick): Promise<void> {
  const id = slackEscape(click.id);
  let problem: string;
  try {
    const evidence = await ctx.lookup(ctx.pool, click.id, { timeline: true });
    if (evidence) {
      const requester = slackRequester(click.team, click.user);
      const links = issueLinks({
        baseUrl: ctx.baseUrl(),
        secret: ctx.linkSecret,
        id: click.id,
        requester,
        nowMs: ctx.now(),
      });
      const shown = timelinePage({
        id: click.id,
        blocks: timelineBlocks(withEvents(evidence)),
        page: click.page,
        user: click.user,
        timelineUrl: links.timeline,
        linkExpires: links.expires,
      });
      const served = Buffer.from(JSON.stringify(shown.view), 'utf8');
      const access = {
        id: click.id,
        requester,
        page: shown.page,
        pages: shown.pages,
        linkExpires: links.expires,
        served,
      };
      // Recorded before Slack is sent anything: if it cannot be recorded, nothing is shown.
      await recordAccess(ctx.appender, modalAccessDraft(access, evidence), evidence);
      if ('triggerId' in click.show) await views.open(click.show.triggerId, shown.view);
      else await views.update(click.show.viewId, click.show.hash, shown.view);
      return;
    }
    problem = `Nothing is recorded under \`${id}\`: no operation and no correlation id has it.`;
  } catch (error) {
    const slackError = (error as { data?: { error?: unknown } }).data?.error;
    ctx.log(
      `writ serve: the Slack timeline of ${click.id} (page ${click.page}) failed: ${slackError ? `Slack answered ${String(slackError)}` : ((error as Error).stack ?? String(error))}`,
    );
    problem = isOperatorProblem(error)
      ? slackEscape(`Could not show the timeline of \`${click.id}\`: ${error.message}. ${error.hint ?? ''}`.trim())
      : `Could not show the timeline of \`${id}\`${slackError ? ` (Slack answered ${slackEscape(String(slackError))})` : ': an internal error (the writ serve log has the details)'}.`;
  }
  if (click.responseUrl) await tellUser(ctx, click.responseUrl, problem);
}
