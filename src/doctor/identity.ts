import { LogLevel, WebClient } from '@slack/web-api';
import type { CheckResult } from './check.js';
import { fail, messageOf, ok, skip } from './check.js';

/** WRIT_OIDC_ISSUER's discovery document answers and names that same issuer (RFC 8414 section 3.3). */
export async function oidcIssuerCheck(issuer: string | undefined): Promise<CheckResult> {
  const name = 'oidc-issuer';
  if (!issuer) return skip(name, 'WRIT_OIDC_ISSUER is not set');
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const fix = `check WRIT_OIDC_ISSUER: it must be your provider's issuer URL exactly as its discovery document states it, and ${url} must answer from this host`;
  let metadata: { issuer?: unknown };
  try {
    const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(3_000) });
    if (!response.ok) {
      await response.body?.cancel();
      return fail(name, `${url} answered HTTP ${response.status}`, fix);
    }
    metadata = (await response.json()) as { issuer?: unknown };
  } catch (error) {
    return fail(name, `${url}: ${messageOf(error)}`, fix);
  }
  if (metadata.issuer !== issuer)
    return fail(name, `${url} names the issuer ${String(metadata.issuer)}, not ${issuer}`, fix);
  return ok(name, `${issuer} answers its discovery document`);
}

/** WRIT_SLACK_BOT_TOKEN is accepted by Slack (auth.test), at WRIT_SLACK_API_URL when that is set. */
export async function slackCheck(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const name = 'slack';
  const token = env.WRIT_SLACK_BOT_TOKEN?.trim();
  if (!token) return skip(name, 'WRIT_SLACK_BOT_TOKEN is not set');
  const apiUrl = env.WRIT_SLACK_API_URL?.trim();
  const slack = new WebClient(token, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    retryConfig: { retries: 0 },
    timeout: 3_000,
    logLevel: LogLevel.ERROR,
  });
  try {
    const answer = await slack.auth.test();
    return ok(name, `the bot token works for team ${answer.team ?? answer.team_id ?? '?'} as ${answer.user_id ?? '?'}`);
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error;
    return fail(
      name,
      `auth.test refused the bot token: ${code ?? messageOf(error)}`,
      "set WRIT_SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-...) of Writ's Slack app (its OAuth & Permissions page)",
    );
  }
}
