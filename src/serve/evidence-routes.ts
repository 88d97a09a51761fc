import type { ServerResponse } from 'node:http';
import type { TimelineEvent } from '../evidence/what-happened/index.js';
import { accessDraft, recordAccess } from './access-record.js';
import type { ServeContext } from './context.js';
import type { Download } from './downloads.js';
import { csvDownload, jsonDownload } from './downloads.js';
import type { Evidence } from './evidence.js';
import { idProblem } from './evidence.js';
import { send, sendHtml, sendProblem } from './http.js';
import type { LinkFormat } from './signed-links.js';
import { checkLink, signedLinks } from './signed-links.js';
import { timelinePage } from './timeline-page.js';

/**
 * One use of a signed link: refused (403) unless its signature and expiry hold, 404 when the ledger
 * has nothing under the id, and otherwise recorded in the ledger before a byte is sent. Refusals
 * record nothing: they disclose nothing.
 */
export async function serveEvidence(
  ctx: ServeContext,
  response: ServerResponse,
  format: LinkFormat,
  query: URLSearchParams,
): Promise<void> {
  const asPage = format === 'timeline';
  const check = checkLink(ctx.linkSecret, format, query, ctx.now());
  if (!check.ok) return sendProblem(response, 403, 'This link is refused', check.problem, asPage);
  const { grant } = check;
  const problem = idProblem(grant.id);
  if (problem) return sendProblem(response, 400, 'Bad id', problem, asPage);
  const evidence = await ctx.lookup(ctx.pool, grant.id, { timeline: format !== 'csv' });
  if (!evidence) {
    return sendProblem(
      response,
      404,
      'Nothing recorded under this id',
      `The ledger holds no operation and no correlation id "${grant.id}". Check the id you were given.`,
      asPage,
    );
  }

  if (format === 'timeline') {
    const recorded = await recordAccess(ctx.appender, accessDraft(grant, evidence), evidence);
    // The page's download links are the same grant in another format: same requester, same end.
    const links = signedLinks(ctx.baseUrl(), ctx.linkSecret, grant.id, grant.requester, grant.expires);
    return sendHtml(
      response,
      200,
      timelinePage({
        evidence: withEvents(evidence),
        requester: grant.requester,
        expires: grant.expires,
        downloads: { csv: links.csv, json: links.json },
        recordedAs: { chain: recorded.chain, seq: recorded.seq },
      }),
    );
  }
  const download: Download =
    format === 'csv' ? await csvDownload(ctx.pool, grant.id) : jsonDownload(withEvents(evidence));
  await recordAccess(ctx.appender, accessDraft(grant, evidence, download.body), evidence);
  send(response, 200, download.body, {
    'content-type': download.contentType,
    'content-disposition': `attachment; filename="${download.fileName}"`,
  });
}

export function withEvents(evidence: Evidence): Evidence & { events: TimelineEvent[] } {
  if (!evidence.events) throw new Error(`the lookup of ${evidence.id} did not return its records`);
  return evidence as Evidence & { events: TimelineEvent[] };
}
