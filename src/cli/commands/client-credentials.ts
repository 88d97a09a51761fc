import * as oidc from 'openid-client';
import { CliExit, EXIT } from '../shared/exit.js';

export interface ClientCredentials {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The API the token is for (RFC 8707 `resource`), where the provider asks for one. */
  resource?: string;
  scope?: string;
}

/** Plain HTTP would send the client secret in the clear: only a provider on this machine may use it. */
function isLoopback(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** The issuer as a URL Writ may send a client secret to, or the usage error that says why not. */
export function issuerUrl(issuer: string): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new CliExit(EXIT.usage, `--token-from needs the identity provider's issuer URL, and ${issuer} is not a URL`);
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url))) return url;
  throw new CliExit(
    EXIT.usage,
    `--token-from ${issuer}: the issuer must be https (plain http only on localhost), or the client secret travels in the clear`,
  );
}

/**
 * A fresh client-credentials token from the provider (discovered from its issuer URL): what a
 * service presents as its proof of identity. Every call asks for a new one, because the worker
 * accepts each token for one request only.
 */
export async function clientCredentialsToken(credentials: ClientCredentials): Promise<string> {
  const url = issuerUrl(credentials.issuer);
  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(
      url,
      credentials.clientId,
      credentials.clientSecret,
      undefined,
      url.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
    );
  } catch (error) {
    throw new CliExit(
      EXIT.usage,
      `cannot discover the identity provider ${credentials.issuer}: ${describe(error)}; check the issuer URL`,
    );
  }
  const parameters: Record<string, string> = {};
  if (credentials.resource) parameters.resource = credentials.resource;
  if (credentials.scope) parameters.scope = credentials.scope;
  let accessToken: string;
  try {
    accessToken = (await oidc.clientCredentialsGrant(config, parameters)).access_token;
  } catch (error) {
    throw new CliExit(
      EXIT.usage,
      `the identity provider ${credentials.issuer} gave no token to client ${credentials.clientId}: ${describe(error)}; check WRIT_CLIENT_ID, WRIT_CLIENT_SECRET and --token-resource`,
    );
  }
  if (accessToken.split('.').length !== 3)
    throw new CliExit(
      EXIT.usage,
      `the identity provider ${credentials.issuer} issued an opaque access token, which Writ cannot verify: configure it to issue JWT access tokens for the resource Writ accepts (--token-resource)`,
    );
  return accessToken;
}

function describe(error: unknown): string {
  const err = error as { message?: string; error?: string; error_description?: string };
  if (err?.error) return `${err.error}${err.error_description ? ` (${err.error_description})` : ''}`;
  return err?.message ?? String(error);
}
