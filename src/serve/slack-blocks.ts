import type { KnownBlock } from '@slack/web-api';

/**
 * Slack's documented limits on what a view may hold (api.slack.com/reference/surfaces/views and
 * /reference/block-kit/blocks). Past them Slack refuses the whole view with invalid_arguments, so
 * the user would see nothing at all: every text is fitted, never sent too long.
 */
export const SLACK_LIMITS = {
  blocksPerView: 100,
  sectionText: 3000,
  headerText: 150,
  contextText: 3000,
  viewTitle: 24,
  buttonText: 75,
  buttonValue: 2000,
  privateMetadata: 3000,
} as const;

/** Slack's mrkdwn reads &, < and > as markup (links, mentions), so text from the ledger has them escaped. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Cuts mrkdwn that is already escaped to `max` characters, never inside an entity (`&amp;`)
 * and never leaving a code span or block open, saying that it was cut.
 */
export function fitText(text: string, max: number): string {
  if (text.length <= max) return text;
  const mark = '…';
  let cut = text.slice(0, max - mark.length - 3).replace(/&[a-z]{0,4}$/, '');
  // An open ``` or ` would swallow the rest of the message into code.
  if ((cut.match(/```/g)?.length ?? 0) % 2) return `${cut}${mark}\`\`\``;
  if ((cut.replace(/```/g, '').match(/`/g)?.length ?? 0) % 2) cut += '`';
  return `${cut}${mark}`;
}

export function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: fitText(text || ' ', SLACK_LIMITS.sectionText) } };
}

export function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: plain(text, SLACK_LIMITS.headerText), emoji: false } };
}

export function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: fitText(text, SLACK_LIMITS.contextText) }] };
}

/** Plain text (titles, headers, button labels) cut to `max` characters. */
export function plain(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Lines (already escaped) as few sections as the text limit allows, the heading on the first: a
 * long list (fifty steps, a long approval trail) is split between lines, never dropped.
 */
export function sections(heading: string, lines: string[]): KnownBlock[] {
  const max = SLACK_LIMITS.sectionText;
  const texts: string[] = [];
  let current = heading;
  for (const line of lines.map((l) => fitText(l, max - heading.length - 1))) {
    if (current && current.length + 1 + line.length > max) {
      texts.push(current);
      current = line;
    } else current = current ? `${current}\n${line}` : line;
  }
  if (current) texts.push(current);
  return texts.map(section);
}
