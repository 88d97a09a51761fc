import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { isOperatorProblem } from '../model/errors.js';
import { approvalRoute, isApprovalPath } from './approval-routes.js';
import type { ServeContext } from './context.js';
import { serveEvidence } from './evidence-routes.js';
import { html } from './html.js';
import { sendHtml, sendProblem, sendText } from './http.js';
import { page } from './page-layout.js';
import type { LinkFormat } from './signed-links.js';
import { PATHS } from './signed-links.js';
import { slackCommand } from './slack-command.js';
import { slackInteraction } from './slack-interactions.js';

export const SLACK_PATH = '/slack/what-happened';
export const SLACK_INTERACTIONS_PATH = '/slack/interactions';

const FORMAT_BY_PATH = new Map<string, LinkFormat>(
  Object.entries(PATHS).map(([format, path]) => [path, format as LinkFormat]),
);

export function createHandler(ctx: ServeContext): RequestListener {
  return (request, response) => {
    route(ctx, request, response).catch((error: unknown) => fail(ctx, request, response, error));
  };
}

async function route(ctx: ServeContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const target = request.url ?? '/';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));

  if (path === SLACK_PATH) {
    if (request.method !== 'POST')
      return sendText(response, 405, 'Slack slash commands are POSTed here', { allow: 'POST' });
    return slackCommand(ctx, request, response);
  }
  if (path === SLACK_INTERACTIONS_PATH) {
    if (request.method !== 'POST')
      return sendText(response, 405, 'Slack interactivity payloads are POSTed here', { allow: 'POST' });
    return slackInteraction(ctx, request, response);
  }
  const format = FORMAT_BY_PATH.get(path);
  if (format) {
    // GET only: a HEAD would be a use of the link that sends nothing worth recording.
    if (request.method !== 'GET')
      return sendProblem(
        response,
        405,
        'Method not allowed',
        'Open this link with GET, in a browser or with curl.',
        false,
      );
    return serveEvidence(ctx, response, format, query);
  }
  if (isApprovalPath(path)) return approvalRoute(ctx, request, response, path, query);
  if (path === '/healthz') return sendText(response, 200, 'ok');
  if (path === '/') {
    return sendHtml(
      response,
      200,
      page(
        'writ serve',
        html` <section>
          <h1>writ serve</h1>
          <p>
            Timelines and downloads of Writ's ledger are served here behind signed links only. Ask for one with
            <code>writ link &lt;id&gt; --requester &lt;you&gt;</code>, or with <code>/what-happened &lt;id&gt;</code> in
            Slack.
          </p>
        </section>`,
      ),
    );
  }
  return sendProblem(
    response,
    404,
    'Not found',
    `Nothing is served at ${path}. Links look like ${PATHS.timeline}?id=…`,
    true,
  );
}

const UNAVAILABLE = new Set(['LEDGER_APPEND_FAILED', 'DB_UNREACHABLE']);

function fail(ctx: ServeContext, request: IncomingMessage, response: ServerResponse, error: unknown): void {
  // Configuration and ledger problems (an unmigrated database, a broken projection) say what to
  // do; anything else is a bug whose details belong in the log, not in front of a reader.
  const known = isOperatorProblem(error) ? error : null;
  if (!known || known.code === 'LEDGER_APPEND_FAILED')
    ctx.log(
      `writ serve: ${request.method} ${request.url?.split('?')[0]} failed: ${(error as Error).stack ?? String(error)}`,
    );
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const asPage = !request.url?.startsWith(PATHS.csv) && !request.url?.startsWith(PATHS.json);
  if (known?.code === 'LEDGER_APPEND_FAILED') {
    return sendProblem(
      response,
      503,
      'Not sent',
      'This use of the link could not be recorded in the ledger, so nothing was sent. Try again in a moment.',
      asPage,
    );
  }
  const status = known && UNAVAILABLE.has(known.code) ? 503 : 500;
  const message = known
    ? `${known.message}. ${known.hint ?? ''}`.trim()
    : 'An internal error stopped this request; the writ serve log has the details.';
  sendProblem(response, status, 'Could not answer', message, asPage);
}
