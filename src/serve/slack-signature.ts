import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { sameSecret } from './constant-time.js';

/** Slack's own limit: a request signed more than five minutes from now could be a replay. */
export const SLACK_MAX_SKEW_SECONDS = 5 * 60;

export type SlackCheck = { ok: true } | { ok: false; problem: string };

/** `v0=` and the hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` under the signing secret. */
export function slackSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  const mac = crypto.createHmac('sha256', secret);
  mac.update(`v0:${timestamp}:`, 'utf8');
  mac.update(rawBody);
  return `v0=${mac.digest('hex')}`;
}

/**
 * Slack's request signing (https://api.slack.com/authentication/verifying-requests-from-slack).
 * The signature covers the raw bytes as they arrived, so it is checked before anything parses them.
 */
export function verifySlackRequest(
  secret: string,
  headers: IncomingHttpHeaders,
  rawBody: Buffer,
  nowMs: number,
): SlackCheck {
  const timestamp = single(headers['x-slack-request-timestamp']);
  const signature = single(headers['x-slack-signature']);
  if (timestamp === undefined || signature === undefined) {
    return {
      ok: false,
      problem: 'missing X-Slack-Request-Timestamp or X-Slack-Signature: only Slack may call this endpoint',
    };
  }
  if (!/^\d{1,12}$/.test(timestamp))
    return { ok: false, problem: 'X-Slack-Request-Timestamp is not a number of seconds' };
  const skew = Number(timestamp) - Math.floor(nowMs / 1000);
  if (Math.abs(skew) > SLACK_MAX_SKEW_SECONDS) {
    return {
      ok: false,
      problem: `X-Slack-Request-Timestamp is ${Math.abs(skew)} s in the ${skew < 0 ? 'past' : 'future'}, more than the ${SLACK_MAX_SKEW_SECONDS} s allowed: a replayed request, or a clock to fix`,
    };
  }
  if (!sameSecret(slackSignature(secret, timestamp, rawBody), signature)) {
    return {
      ok: false,
      problem:
        "X-Slack-Signature does not match this request: check WRIT_SLACK_SIGNING_SECRET against the app's signing secret",
    };
  }
  return { ok: true };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}
