import { WebClient } from '@slack/web-api';
import { signBody, SIGNATURE_HEADER } from '../connectors/webhook/signature.js';
import { whatHappenedLink } from '../report/links.js';
import type { AlertConfig } from './config.js';
import type { Alert } from './message.js';
import { alertBody, alertId, alertSlackText } from './message.js';

export type Destination = 'webhook' | 'slack';

/** How long a signed timeline link in an alert stays valid. */
const LINK_DAYS = 7;

/** Whom every use of an alert's link is recorded under (FORMAT 11). */
export const ALERT_LINK_REQUESTER = 'writ-alerts';

function linkFor(alert: Alert, config: AlertConfig, nowMs: number) {
  if (alert.kind !== 'operation.needs_intervention') return undefined;
  const settings = config.links
    ? { ...config.links, requester: ALERT_LINK_REQUESTER, expires: Math.floor(nowMs / 1000) + LINK_DAYS * 86_400 }
    : null;
  return whatHappenedLink(alert.operationId, settings);
}

async function toWebhook(webhook: NonNullable<AlertConfig['webhook']>, raw: string, id: string): Promise<void> {
  const response = await fetch(webhook.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': id,
      ...(webhook.secret ? { [SIGNATURE_HEADER]: signBody(webhook.secret, raw) } : {}),
    },
    body: raw,
    signal: AbortSignal.timeout(10_000),
  });
  // The URL may hold a token: the error names the status only.
  if (!response.ok) throw new Error(`the alert webhook answered ${response.status} ${response.statusText}`);
}

async function toSlack(slack: NonNullable<AlertConfig['slack']>, text: string): Promise<void> {
  // Temporal's retry policy bounds the attempts; the client's own retries (up to half an hour) would not.
  const client = new WebClient(slack.botToken, {
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
  await client.chat.postMessage({ channel: slack.channel, text, unfurl_links: false });
}

/**
 * Sends one alert to each destination not in `done`, and says which it reached. A destination
 * that fails is reported after the others were tried, so a retry repeats only what failed.
 */
export async function deliverAlert(
  alert: Alert,
  config: AlertConfig,
  done: readonly Destination[],
  reached: (destination: Destination) => void,
  nowMs = Date.now(),
): Promise<void> {
  const link = linkFor(alert, config, nowMs);
  const failures: string[] = [];
  const attempt = async (destination: Destination, send: () => Promise<void>) => {
    if (done.includes(destination)) return;
    try {
      await send();
      reached(destination);
    } catch (error) {
      const slackError = (error as { data?: { error?: string } }).data?.error;
      failures.push(`${destination}: ${slackError ?? (error as Error).message}`);
    }
  };
  const { webhook, slack } = config;
  if (webhook) {
    const raw = JSON.stringify(alertBody(alert, link, new Date(nowMs).toISOString()));
    await attempt('webhook', () => toWebhook(webhook, raw, alertId(alert)));
  }
  if (slack) await attempt('slack', () => toSlack(slack, alertSlackText(alert, link)));
  if (failures.length) throw new Error(`alert ${alertId(alert)} not delivered to ${failures.join('; ')}`);
}
