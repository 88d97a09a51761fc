import { WritError } from '../model/errors.js';

/** Where a session ends, counted from the login: long enough to read a change, short enough not to linger. */
export const DEFAULT_SESSION_TTL_SECONDS = 15 * 60;
export const DEFAULT_CHANNEL_NAME = 'writ-serve';

/** Single sign-on for the approval pages, from the environment; the Temporal address comes from writ-config. */
export interface SsoEnv {
  issuer: string;
  clientId: string;
  /** Absent: a public client, which PKCE alone protects. */
  clientSecret?: string;
  /** The Ed25519 private key (PEM, as `writ keygen` writes) that signs this channel's assertions. */
  channelKeyPath: string;
  channelName: string;
  /** The directory of people (the worker's WRIT_APPROVERS_FILE): who a login is. */
  approversFile: string;
}

/**
 * WRIT_OIDC_ISSUER, WRIT_OIDC_CLIENT_ID, WRIT_OIDC_CLIENT_SECRET, WRIT_CHANNEL_KEY, WRIT_CHANNEL_NAME
 * and WRIT_APPROVERS_FILE. Undefined when no issuer is set (approvals are then not served); an
 * issuer without the rest is a half-made configuration, refused with what is missing.
 */
export function ssoConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SsoEnv | undefined {
  if (!env.WRIT_OIDC_ISSUER) return undefined;
  const missing = ['WRIT_OIDC_CLIENT_ID', 'WRIT_CHANNEL_KEY', 'WRIT_APPROVERS_FILE'].filter((name) => !env[name]);
  if (missing.length)
    throw new WritError(
      'CONFIG',
      `WRIT_OIDC_ISSUER is set, so writ serve signs approvers in, but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not`,
      'Set WRIT_OIDC_CLIENT_ID to the client registered at the provider, WRIT_CHANNEL_KEY to an Ed25519 key made with `writ keygen` (its public key pinned in the directory under channels), and WRIT_APPROVERS_FILE to the directory the worker reads.',
    );
  return {
    issuer: parseIssuer(env.WRIT_OIDC_ISSUER),
    clientId: env.WRIT_OIDC_CLIENT_ID!,
    ...(env.WRIT_OIDC_CLIENT_SECRET ? { clientSecret: env.WRIT_OIDC_CLIENT_SECRET } : {}),
    channelKeyPath: env.WRIT_CHANNEL_KEY!,
    channelName: env.WRIT_CHANNEL_NAME || DEFAULT_CHANNEL_NAME,
    approversFile: env.WRIT_APPROVERS_FILE!,
  };
}

function parseIssuer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WritError('USAGE', `WRIT_OIDC_ISSUER must be the provider's issuer URL, not "${value}"`);
  }
  // Tokens over plain http can be read and replayed on the way; only a provider on this machine may use it.
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local))
    throw new WritError('USAGE', `WRIT_OIDC_ISSUER must be an https URL (http only on this machine), not ${value}`);
  return value;
}
