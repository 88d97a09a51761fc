import type { KnownBlock, ModalView } from '@slack/web-api';
import { SLACK_LIMITS, context, plain, section, slackEscape } from './slack-blocks.js';

/** What the modal's buttons and its view are called, for the interactivity endpoint to recognise them. */
export const TIMELINE_ACTIONS = {
  open: 'writ_full_timeline',
  next: 'writ_timeline_next',
  previous: 'writ_timeline_previous',
} as const;
export const TIMELINE_CALLBACK_ID = 'writ_timeline';

/** Each page ends with a context line, the paging buttons and the signed link: 3 blocks kept free. */
export const BLOCKS_PER_PAGE = SLACK_LIMITS.blocksPerView - 3;

/** Which page of which id a view shows: kept in the view's private_metadata, re-checked on every click. */
export interface TimelinePlace {
  id: string;
  /** 1-based. */
  page: number;
}

export interface TimelinePage {
  view: ModalView;
  page: number;
  pages: number;
}

/**
 * One page of a timeline as a modal view. A page past the end shows the last (a timeline only
 * grows, so that is where a reader who asked for more wants to be).
 */
export function timelinePage(input: {
  id: string;
  blocks: KnownBlock[];
  page: number;
  user: string;
  timelineUrl: string;
  linkExpires: number;
}): TimelinePage {
  const pages = Math.max(1, Math.ceil(input.blocks.length / BLOCKS_PER_PAGE));
  const page = Math.min(Math.max(1, input.page), pages);
  const shown = input.blocks.slice((page - 1) * BLOCKS_PER_PAGE, page * BLOCKS_PER_PAGE);
  const until = new Date(input.linkExpires * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC');
  const buttons = [
    ...(page > 1 ? [button('← Previous', TIMELINE_ACTIONS.previous)] : []),
    ...(page < pages ? [button('Next →', TIMELINE_ACTIONS.next)] : []),
  ];
  const place: TimelinePlace = { id: input.id, page };
  return {
    page,
    pages,
    view: {
      type: 'modal',
      callback_id: TIMELINE_CALLBACK_ID,
      title: {
        type: 'plain_text',
        text: plain(pages > 1 ? `Timeline ${page}/${pages}` : 'Full timeline', SLACK_LIMITS.viewTitle),
      },
      close: { type: 'plain_text', text: 'Close' },
      private_metadata: JSON.stringify(place),
      blocks: [
        ...shown,
        context(
          `Page ${page} of ${pages} · shown to <@${slackEscape(input.user)}>; each page shown is recorded in the ledger.`,
        ),
        ...(buttons.length
          ? [{ type: 'actions', block_id: 'writ_timeline_pages', elements: buttons } as KnownBlock]
          : []),
        section(
          `<${slackEscape(input.timelineUrl)}|Open the timeline page> (with CSV and JSON downloads): for <@${slackEscape(input.user)}> only, valid until ${until}.`,
        ),
      ],
    },
  };
}

function button(
  text: string,
  actionId: string,
): { type: 'button'; text: { type: 'plain_text'; text: string }; action_id: string } {
  return { type: 'button', text: { type: 'plain_text', text }, action_id: actionId };
}

/** The place a view's private_metadata names, when it is one this server wrote. */
export function parsePlace(metadata: unknown): TimelinePlace | undefined {
  if (typeof metadata !== 'string') return undefined;
  try {
    const value = JSON.parse(metadata) as Partial<TimelinePlace> | null;
    if (!value || typeof value.id !== 'string' || !Number.isSafeInteger(value.page) || value.page! < 1)
      return undefined;
    return { id: value.id, page: value.page! };
  } catch {
    return undefined;
  }
}
