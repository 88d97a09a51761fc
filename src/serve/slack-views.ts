import type { ModalView } from '@slack/web-api';
import { WebClient } from '@slack/web-api';

/** Opens and pages the modal: Slack's views.open and views.update, as the bot. */
export interface SlackViews {
  open(triggerId: string, view: ModalView): Promise<void>;
  update(viewId: string, hash: string | undefined, view: ModalView): Promise<void>;
}

export interface SlackViewsOptions {
  /** The bot token (xoxb-…); views.open and views.update need no scope beyond it. */
  botToken: string;
  /** Slack's Web API base (default https://slack.com/api/); tests point it at a local server. */
  slackApiUrl?: string;
}

export function slackViews(options: SlackViewsOptions): SlackViews {
  const slack = new WebClient(options.botToken, {
    ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
    // A trigger_id lives 3 seconds: a retry would only arrive after it expired.
    retryConfig: { retries: 0 },
  });
  return {
    open: async (triggerId, view) => void (await slack.views.open({ trigger_id: triggerId, view })),
    update: async (viewId, hash, view) =>
      void (await slack.views.update({ view_id: viewId, ...(hash ? { hash } : {}), view })),
  };
}
