import type { KnownBlock } from '@slack/web-api';
import { describeWhatHappened } from '../evidence/what-happened/index.js';
import type { Evidence } from './evidence.js';
import type { SignedLinks } from './signed-links.js';
import { SLACK_LIMITS, fitText, section, slackEscape } from './slack-blocks.js';
import { TIMELINE_ACTIONS } from './slack-timeline-view.js';

export { slackEscape } from './slack-blocks.js';

/**
 * What Slack shows. Ephemeral: evidence goes to the person who asked, not the channel. Unfurling
 * is off because Slack's unfurler would fetch the links, and each fetch of a download would be
 * recorded in the ledger as a download by the requester. With blocks, Slack shows them and the
 * text is what notifications and screen readers read.
 */
export interface SlackMessage {
  response_type: 'ephemeral';
  text: string;
  blocks?: KnownBlock[];
  unfurl_links: false;
  unfurl_media: false;
}

/** Slack's text limit is 40,000 characters; a summary past this is cut and the page has the rest. */
const MAX_SUMMARY = 3500;

export function slackMessage(text: string): SlackMessage {
  return { response_type: 'ephemeral', text, unfurl_links: false, unfurl_media: false };
}

export interface AnswerOptions {
  /** Offer the Full timeline button (only when this server can open modals). */
  timelineButton: boolean;
}

export function slackAnswer(
  evidence: Evidence,
  links: SignedLinks & { expires: number },
  user: string,
  options: AnswerOptions = { timelineButton: false },
): SlackMessage {
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
  const title = `*What happened to \`${slackEscape(evidence.id)}\`*`;
  const summaryText = `\`\`\`${slackEscape(summary)}\`\`\``;
  const linkLines = [
    `${link(links.timeline, 'Timeline')} · ${link(links.csv, 'CSV')} · ${link(links.json, 'JSON')}`,
    `Links for <@${slackEscape(user)}> only, valid until ${until}; each use is recorded in the ledger.`,
  ].join('\n');
  const message = slackMessage([title, summaryText, linkLines].join('\n'));
  if (!options.timelineButton) return message;
  return { ...message, blocks: answerBlocks(evidence.id, `${title}\n${summaryText}`, linkLines) };
}

/** The same answer as blocks (a section holds 3,000 characters), with the Full timeline button. */
function answerBlocks(id: string, summary: string, links: string): KnownBlock[] {
  return [
    section(fitText(summary, SLACK_LIMITS.sectionText)),
    section(links),
    {
      type: 'actions',
      block_id: 'writ_what_happened',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Full timeline' },
          action_id: TIMELINE_ACTIONS.open,
          // The server looks the id up again, for whoever clicks, as if it were a new command.
          value: id,
        },
      ],
    },
  ];
}
