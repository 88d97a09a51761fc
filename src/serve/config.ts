import { WritError } from '../model/errors.js';

export const DEFAULT_SERVE_PORT = 8787;
export const DEFAULT_SERVE_HOST = '127.0.0.1';
/** How long a link stays valid unless asked otherwise: a working day, not a standing credential. */
export const DEFAULT_LINK_TTL_SECONDS = 24 * 3600;
/** A signed link is a bearer credential; one that outlives a quarter is one nobody remembers handing out. */
export const MAX_LINK_TTL_SECONDS = 90 * 24 * 3600;
/** Shorter secrets are guessable offline from a single link: HMAC is only as strong as its key. */
export const MIN_SECRET_LENGTH = 16;

export interface ServeConfig {
  host: string;
  port: number;
  publicUrl?: string;
  linkSecret?: string;
  slackSigningSecret?: string;
  /** The Slack workspaces (team ids) this server answers; without any, Slack is not served. */
  slackTeamIds?: string[];
}

/**
 * WRIT_SERVE_PORT, WRIT_SERVE_HOST, WRIT_PUBLIC_URL, WRIT_LINK_SECRET, WRIT_SLACK_SIGNING_SECRET,
 * WRIT_SLACK_TEAM_IDS (comma- or space-separated).
 * The secrets come only from the environment: on a command line they would show in `ps`.
 */
export function serveConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServeConfig {
  return {
    host: env.WRIT_SERVE_HOST || DEFAULT_SERVE_HOST,
    port: env.WRIT_SERVE_PORT ? parsePort(env.WRIT_SERVE_PORT, 'WRIT_SERVE_PORT') : DEFAULT_SERVE_PORT,
    ...(env.WRIT_PUBLIC_URL ? { publicUrl: parsePublicUrl(env.WRIT_PUBLIC_URL, 'WRIT_PUBLIC_URL') } : {}),
    ...(env.WRIT_LINK_SECRET ? { linkSecret: env.WRIT_LINK_SECRET } : {}),
    ...(env.WRIT_SLACK_SIGNING_SECRET ? { slackSigningSecret: env.WRIT_SLACK_SIGNING_SECRET } : {}),
    ...(env.WRIT_SLACK_TEAM_IDS?.trim()
      ? { slackTeamIds: parseSlackTeamIds(env.WRIT_SLACK_TEAM_IDS, 'WRIT_SLACK_TEAM_IDS') }
      : {}),
  };
}

/** Where `writ serve` is reached when no public URL is configured: its own listening address. */
export function serveBaseUrl(config: Pick<ServeConfig, 'host' | 'port' | 'publicUrl'>): string {
  return config.publicUrl ?? `http://${hostForUrl(config.host)}:${config.port}`;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * A Slack app's signing secret is the app's, not a workspace's: every workspace that installs the
 * app sends correctly signed commands. So the workspaces to answer are named, by team id.
 */
export function parseSlackTeamIds(value: string | readonly string[], where: string): string[] {
  const ids = (typeof value === 'string' ? value.split(/[\s,]+/) : [...value]).map((id) => id.trim()).filter(Boolean);
  const bad = ids.filter((id) => !/^[TE][A-Z0-9]{2,31}$/.test(id));
  if (bad.length) {
    throw new WritError(
      'USAGE',
      `${where} must list Slack team ids such as T0123ABCD, not ${bad.map((id) => JSON.stringify(id)).join(', ')}`,
      "Find a workspace's team id in Slack under the workspace menu, or in the team_id of a slash command's payload.",
    );
  }
  return ids;
}

export function parsePort(value: string, where: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65_535))
    throw new WritError(
      'USAGE',
      `${where} must be a port number from 0 to 65535, not "${value}"`,
      'Use 0 to take any free port.',
    );
  return port;
}

/**
 * The base every link starts with: where people reach this server (a proxy's address, say), without a
 * trailing slash.
 */
export function parsePublicUrl(value: string, where: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WritError(
      'USAGE',
      `${where} must be an absolute http(s) URL such as https://writ.example.com, not "${value}"`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new WritError('USAGE', `${where} must be an http or https URL, not ${url.protocol}`);
  if (url.search || url.hash)
    throw new WritError('USAGE', `${where} must not carry a query or a fragment: links add their own`);
  return url.toString().replace(/\/+$/, '');
}

export function requireLinkSecret(secret: string | undefined): string {
  if (!secret) {
    throw new WritError(
      'CONFIG',
      'WRIT_LINK_SECRET is not set: the timeline page and the downloads are only served behind links signed with it',
      'Set WRIT_LINK_SECRET to a long random string (for example the output of `openssl rand -hex 32`), the same for `writ serve` and `writ link`.',
    );
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new WritError(
      'CONFIG',
      `WRIT_LINK_SECRET is ${secret.length} characters long; it must have at least ${MIN_SECRET_LENGTH}`,
      'Use a long random string, for example the output of `openssl rand -hex 32`.',
    );
  }
  return secret;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "90s", "15m", "24h", "7d" or a bare number of seconds, within what a link may live. */
export function parseTtl(value: string, where = '--ttl'): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  const seconds = match ? Number(match[1]) * UNITS[match[2] || 's']! : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1)
    throw new WritError('USAGE', `${where} must be a duration such as 90s, 15m, 24h or 7d, not "${value}"`);
  return checkTtl(seconds, where);
}

export function checkTtl(seconds: number, where = 'ttlSeconds'): number {
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new WritError('USAGE', `${where} must be a whole number of seconds, at least 1, not ${seconds}`);
  if (seconds > MAX_LINK_TTL_SECONDS)
    throw new WritError(
      'USAGE',
      `${where} is longer than the 90 days a link may live`,
      'Hand out a fresh link when it is needed again.',
    );
  return seconds;
}
