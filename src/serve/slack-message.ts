import { describeWhatHappened } from '../evidence/what-happened/index.js';
import type { Evidence } from './evidence.js';
import type { SignedLinks } from './signed-links.js';

/**
 * What Slack shows. Ephemeral: evidence goes to the person who asked, not the channel. Unfurling
 * is off because Slack's unfurler would fetch the links, and each fetch of a download would be
 * recorded in the ledger as a download by the requester.
 */
export interface SlackMessage {
  response_type: 'ephemeral';
  text: string;
  unfurl_links: false;
  unfurl_media: false;
}

/** Slack's text limit is 40,000 characters; a summary past this is cut and the page has the rest. */
const MAX_SUMMARY = 3500;

export function slackMessage(text: string): SlackMessage {
  return { response_type: 'ephemeral', text, unfurl_links: false, unfurl_media: false };
}

/** Slack's mrkdwn reads &, < and > as markup (links, mentions), so text from the ledger has them escaped. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackAnswer(evidence: Evidence, links: SignedLinks & { expires: number }, user: string): SlackMessage {
  let summary = evidence.summary
    ? describeWhatHappened(evidence.summary)
    : `no operation under ${evidence.id}; ${evidence.events?.length ?? 0} event(s) carry it as correlation id`;
  if (summary.length > MAX_SUMMARY)
    summary = `${summary.slice(0, MAX_SUMMARY)}\n… (cut short: the timeline page has all of it)`;
  const link = (url: string, label: string) => `<${slackEscape(url)}|${label}>`;
  const until = new Date(links.expires * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC');
  return slackMessage(
    [
      `*What happened to \`${slackEscape(evidence.id)}\`*`,
      `\`\`\`${slackEscape(summary)}\`\`\``,
      `${link(links.timeline, 'Timeline')} · ${link(links.csv, 'CSV')} · ${link(links.json, 'JSON')}`,
      `Links for <@${slackEscape(user)}> only, valid until ${until}; each use is recorded in the ledger.`,
    ].join('\n'),
  );
}
