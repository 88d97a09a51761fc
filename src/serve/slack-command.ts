import type { IncomingMessage, ServerResponse } from 'node:http';
import { isOperatorProblem } from '../model/errors.js';
import type { ServeContext } from './context.js';
import { idProblem } from './evidence.js';
import { BodyTooLarge, readBody, sendJson, sendText } from './http.js';
import { issueLinks } from './issue-links.js';
import { slackAnswer, slackEscape, slackMessage } from './slack-message.js';
import type { SlackMessage } from './slack-message.js';
import { verifySlackRequest } from './slack-signature.js';

/** Slack's slash-command payloads are a few hundred bytes; anything near this is not Slack. */
const MAX_BODY = 64 * 1024;
/** Slack gives up on a slash command after 3 s; what is not ready by then is posted later. */
export const SLACK_BUDGET_MS = 2500;
/** A response_url accepts posts for 30 minutes; one that hangs is given up well before. */
const POST_TIMEOUT_MS = 10_000;

/**
 * `/what-happened <id>`: answers within Slack's 3 seconds, with the summary when the lookup makes
 * it inside the budget, else with an acknowledgement, the summary following on the request's
 * response_url. Only signed requests are answered.
 */
export async function slackCommand(
  ctx: ServeContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const off = endpointOff(ctx);
  if (off) return sendText(response, 503, off);
  const form = await signedForm(ctx, request, response);
  if (!form) return;
  // Any workspace that installs the app signs with the same secret: the team decides, before any
  // lookup or ledger access.
  const team = form.get('team_id') ?? '';
  if (!ctx.slackTeamIds.has(team))
    return sendText(response, 403, `Refused: this server does not answer Slack workspace ${JSON.stringify(team)}`);
  const user = form.get('user_id');
  if (!user)
    return sendText(response, 400, 'Refused: the command carries no user_id, so there is nobody to make links for');
  const id = (form.get('text') ?? '').trim();
  const problem = idProblem(id);
  const command = form.get('command') || '/what-happened';
  if (problem)
    return sendJson(
      response,
      200,
      slackMessage(slackEscape(`Usage: \`${command} <operationId or correlation id>\` (${problem}).`)),
    );
  await answerWithinBudget(ctx, response, id, form.get('response_url'), answerFor(ctx, id, team, user));
}

/**
 * Who a Slack user is in links and access records: team and user together, since user ids are
 * only unique within a workspace. Any user of a pinned workspace may look up any id; the record
 * of each look says who.
 */
export function slackRequester(team: string, user: string): string {
  return `slack:${team}/${user}`;
}

/** Why the endpoint is off, when it is not configured to answer anyone. */
export function endpointOff(ctx: ServeContext): string | undefined {
  if (!ctx.slackSigningSecret)
    return "The Slack endpoint is off: set WRIT_SLACK_SIGNING_SECRET to the Slack app's signing secret (Basic Information, App Credentials) and restart writ serve.";
  if (!ctx.slackTeamIds.size)
    return 'The Slack endpoint is off: set WRIT_SLACK_TEAM_IDS to the team ids of the Slack workspaces this server answers, and restart writ serve.';
  return undefined;
}

/** The command's form when Slack signed it; otherwise the refusal is sent and there is none. */
export async function signedForm(
  ctx: ServeContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<URLSearchParams | undefined> {
  let raw: Buffer;
  try {
    raw = await readBody(request, MAX_BODY);
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      sendText(response, 413, `${error.message}: this is not a Slack slash command`, { connection: 'close' });
      return undefined;
    }
    throw error;
  }
  const check = verifySlackRequest(ctx.slackSigningSecret!, request.headers, raw, ctx.now());
  if (!check.ok) {
    sendText(response, 401, `Refused: ${check.problem}`);
    return undefined;
  }
  return new URLSearchParams(raw.toString('utf8'));
}

/** The answer itself when it is ready within the budget; else an acknowledgement, the answer posted later. */
async function answerWithinBudget(
  ctx: ServeContext,
  response: ServerResponse,
  id: string,
  responseUrl: string | null,
  answer: Promise<SlackMessage>,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    answer,
    new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ctx.slackBudgetMs))),
  ]);
  clearTimeout(timer);
  if (inTime) return sendJson(response, 200, inTime);

  if (!responseUrl || !/^https?:\/\//.test(responseUrl)) {
    return sendJson(
      response,
      200,
      slackMessage(
        `Looking up \`${slackEscape(id)}\` is taking longer than Slack waits, and the command carries no response_url to answer on later. Try again in a moment.`,
      ),
    );
  }
  sendJson(response, 200, slackMessage(`Looking up \`${slackEscape(id)}\`… the answer follows here in a moment.`));
  ctx.background(answer.then((message) => postLater(ctx, responseUrl, message)));
}

/** Never rejects: a failed lookup becomes a message saying so. */
async function answerFor(ctx: ServeContext, id: string, team: string, user: string): Promise<SlackMessage> {
  const requester = slackRequester(team, user);
  try {
    const evidence = await ctx.lookup(ctx.pool, id, { timeline: false });
    if (!evidence)
      return slackMessage(
        `Nothing is recorded under \`${slackEscape(id)}\`: no operation and no correlation id has it. Check the id.`,
      );
    const links = issueLinks({ baseUrl: ctx.baseUrl(), secret: ctx.linkSecret, id, requester, nowMs: ctx.now() });
    return slackAnswer(evidence, links, user, { timelineButton: !!ctx.slackViews });
  } catch (error) {
    if (isOperatorProblem(error))
      return slackMessage(slackEscape(`Could not look up \`${id}\`: ${error.message}. ${error.hint ?? ''}`.trim()));
    ctx.log(`writ serve: /what-happened ${id} failed: ${(error as Error).stack ?? String(error)}`);
    return slackMessage(
      `Could not look up \`${slackEscape(id)}\`: an internal error (the writ serve log has the details).`,
    );
  }
}

async function postLater(ctx: ServeContext, responseUrl: string, message: SlackMessage): Promise<void> {
  try {
    const posted = await fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    await posted.body?.cancel();
    if (!posted.ok) ctx.log(`writ serve: Slack refused the delayed answer at its response_url (HTTP ${posted.status})`);
  } catch (error) {
    ctx.log(`writ serve: could not post the delayed answer to Slack's response_url: ${(error as Error).message}`);
  }
}
