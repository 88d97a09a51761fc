import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import Provider, { errors } from 'oidc-provider';
import type { ClientMetadata, Configuration } from 'oidc-provider';
import * as oidc from 'openid-client';
import type { DevPerson } from './identity-provider-login.js';
import { loginInteractions } from './identity-provider-login.js';

export type { DevPerson } from './identity-provider-login.js';

/** A relying party: Writ's web login (`code`, with PKCE) or a service that asks for tokens itself. */
export interface DevClient {
  clientId: string;
  /** None: a public client, which must use PKCE. */
  clientSecret?: string;
  redirectUris?: string[];
  grant: 'code' | 'client_credentials';
}

export interface IdentityProviderOptions {
  port?: number;
  people: DevPerson[];
  clients: DevClient[];
  idTokenTtlSeconds?: number;
  accessTokenTtlSeconds?: number;
  /** The `aud` of the services' access tokens: what Writ's directory lists for this provider. */
  audience?: string;
}

export interface DevIdentityProvider {
  issuer: string;
  jwksUri: string;
  /** The resource indicator whose tokens carry `audience` (services get it by default). */
  resource: string;
  audience: string;
  /** A service's JWT access token from the client credentials grant, as a real service gets one. */
  clientCredentialsToken(clientId: string, clientSecret: string): Promise<string>;
  /** Adds or replaces a person who can sign in (a directory that changes while running). */
  addPerson(person: DevPerson): void;
  close(): Promise<void>;
}

const DEFAULT_AUDIENCE = 'writ';
const RESOURCE = 'urn:writ:api';

/**
 * A real OpenID Connect provider (the `oidc-provider` package) for `writ dev`, the demo and the
 * tests, standing in for Okta, Entra ID, Google or Keycloak as the Temporal dev server stands in
 * for a cluster. Subjects are directory person ids; ID tokens carry email, email_verified and
 * auth_time. Sign-in takes a person's id without a password (identity-provider-login.ts), so it is
 * for local use only; the keys live in memory and change at every start.
 */
export async function startIdentityProvider(options: IdentityProviderOptions): Promise<DevIdentityProvider> {
  const people = new Map(options.people.map((person) => [person.id, person]));
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, await configuration(options, people, audience));
  const interactions = loginInteractions(provider, () => [...people.values()]);
  const callback = provider.callback();
  server.on('request', (request, response) => {
    const match = /^\/interaction\/([\w-]+)(?:\/(\w+))?$/.exec(new URL(request.url ?? '/', issuer).pathname);
    if (!match) return void callback(request, response);
    interactions(request, response, match[1]!, match[2] ?? '').catch((error: unknown) => {
      if (response.headersSent) return void response.destroy();
      response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`${(error as Error).message}\n`);
    });
  });
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    resource: RESOURCE,
    audience,
    clientCredentialsToken: (clientId, clientSecret) => clientCredentialsToken(issuer, clientId, clientSecret),
    addPerson: (person) => void people.set(person.id, person),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function configuration(
  options: IdentityProviderOptions,
  people: ReadonlyMap<string, DevPerson>,
  audience: string,
): Promise<Configuration> {
  const accessTokenTtl = options.accessTokenTtlSeconds ?? 600;
  return {
    clients: options.clients.map(clientMetadata),
    jwks: { keys: [await signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    findAccount: (_ctx, id) => {
      const person = people.get(id);
      if (!person) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: id, ...(person.email ? { email: person.email, email_verified: true } : {}) }),
      };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // Writ maps a login by the ID token alone, so its claims go there rather than only to userinfo.
    conformIdTokenClaims: false,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, client) => (client.grantTypes?.includes('client_credentials') ? RESOURCE : undefined),
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== RESOURCE) throw new errors.InvalidTarget(`only ${RESOURCE} is served here`);
          return { audience, scope: 'writ', accessTokenFormat: 'jwt', accessTokenTTL: accessTokenTtl };
        },
      },
    },
    ttl: {
      // As long as writ serve's sessions: a session ends with its login's ID token.
      IdToken: options.idTokenTtlSeconds ?? 900,
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
  };
}

function clientMetadata(client: DevClient): ClientMetadata {
  const authentication: Pick<ClientMetadata, 'client_secret' | 'token_endpoint_auth_method'> = client.clientSecret
    ? { client_secret: client.clientSecret, token_endpoint_auth_method: 'client_secret_basic' }
    : { token_endpoint_auth_method: 'none' };
  if (client.grant === 'client_credentials')
    return { client_id: client.clientId, ...authentication, grant_types: ['client_credentials'], response_types: [] };
  return {
    client_id: client.clientId,
    ...authentication,
    redirect_uris: client.redirectUris ?? [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // A fresh-login rule reads auth_time, so every ID token carries it, max_age asked or not.
    require_auth_time: true,
  };
}

async function signingKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

async function clientCredentialsToken(issuer: string, clientId: string, clientSecret: string): Promise<string> {
  const config = await oidc.discovery(new URL(issuer), clientId, clientSecret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  try {
    return (await oidc.clientCredentialsGrant(config)).access_token;
  } catch (error) {
    if (!(error instanceof oidc.ResponseBodyError)) throw error;
    const reason = error.error_description ? `${error.error} (${error.error_description})` : error.error;
    throw new Error(`${clientId} got no token from ${issuer}: ${reason}`);
  }
}
