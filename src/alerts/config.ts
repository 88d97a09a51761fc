import { WritError } from '../model/errors.js';
import { parsePublicUrl } from '../serve/config.js';

/** Where alerts go: a webhook, a Slack channel, or both. */
export interface AlertConfig {
  webhook?: { url: string; secret?: string };
  slack?: { channel: string; botToken: string; apiUrl?: string };
  /** `writ serve`'s public URL and link secret: alerts then carry a signed timeline link. */
  links?: { baseUrl: string; secret: string };
}

/**
 * WRIT_ALERT_WEBHOOK_URL (+ WRIT_ALERT_WEBHOOK_SECRET), WRIT_ALERT_SLACK_CHANNEL (+
 * WRIT_SLACK_BOT_TOKEN, WRIT_SLACK_API_URL); WRIT_PUBLIC_URL with WRIT_LINK_SECRET for links.
 * Undefined when neither destination is set.
 */
export function alertConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AlertConfig | undefined {
  const url = env.WRIT_ALERT_WEBHOOK_URL?.trim();
  const channel = env.WRIT_ALERT_SLACK_CHANNEL?.trim();
  if (!url && !channel) return undefined;
  const secret = env.WRIT_ALERT_WEBHOOK_SECRET;
  const token = env.WRIT_SLACK_BOT_TOKEN?.trim();
  if (channel && !token)
    throw new WritError(
      'USAGE',
      'WRIT_ALERT_SLACK_CHANNEL is set but WRIT_SLACK_BOT_TOKEN is not',
      "Set WRIT_SLACK_BOT_TOKEN to the Slack app's bot token (xoxb-…, with chat:write), or unset WRIT_ALERT_SLACK_CHANNEL.",
    );
  const apiUrl = env.WRIT_SLACK_API_URL?.trim();
  const publicUrl = env.WRIT_PUBLIC_URL?.trim();
  const linkSecret = env.WRIT_LINK_SECRET;
  return {
    ...(url ? { webhook: { url: webhookUrl(url), ...(secret ? { secret } : {}) } } : {}),
    ...(channel && token ? { slack: { channel, botToken: token, ...(apiUrl ? { apiUrl } : {}) } } : {}),
    ...(publicUrl && linkSecret
      ? { links: { baseUrl: parsePublicUrl(publicUrl, 'WRIT_PUBLIC_URL'), secret: linkSecret } }
      : {}),
  };
}

/** A webhook URL may carry a token in its query, so it is checked, never echoed in the error. */
function webhookUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WritError(
      'USAGE',
      'WRIT_ALERT_WEBHOOK_URL is not an absolute URL (such as https://hooks.example.com/writ)',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new WritError('USAGE', `WRIT_ALERT_WEBHOOK_URL must be an http or https URL, not ${url.protocol}`);
  return value;
}
