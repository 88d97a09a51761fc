import { createPublicKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DirectoryContent } from '../approvals/directory.js';
import { directorySource } from '../governance/directory.js';
import type { Cleanup } from './cleanup.js';
import type { DevIdentityProvider } from './identity-provider.js';
import { ensureSigningKey } from './signing-key.js';

/** `writ serve`'s name as a channel, and its client id at the provider. */
export const DEV_CHANNEL = 'writ-serve';
/** A service client for scripts (`writ submit --token-from`): its secret is printed, it is a development stack. */
export const DEV_SERVICE_CLIENT = 'writ-cli';

export interface DevIdentity {
  provider: DevIdentityProvider;
  /** What the worker and writ serve read: the given directory, plus the provider, the channel key and logins. */
  directoryFile: string;
  serveClient: { clientId: string; clientSecret: string };
  serviceClient: { clientId: string; clientSecret: string };
  channel: { name: string; privateKey: KeyObject };
  /** A client-credentials token for a service of the directory, as that service would get one. */
  serviceToken(id: string): Promise<string>;
}

export interface DevIdentityOptions {
  /** The directory of people as given (none: an empty one). */
  directoryFile?: string;
  /** Where the channel key and the directory with identities go. */
  dir: string;
  /** Where writ serve will be reached: its `/callback` is the login's redirect. */
  serveBaseUrl: string;
  /** The provider's port (`writ dev` keeps one, so its issuer stays the same); 0: any free one. */
  port?: number;
}

/**
 * The identity side of a development stack, as the dev server stands in for a Temporal cluster: a
 * real OpenID Connect provider whose people are the directory's, a channel key for writ serve,
 * and a directory that trusts both. Nothing here is for production: the provider signs anyone in
 * by id, and its keys live in memory.
 */
export async function startDevIdentity(options: DevIdentityOptions, cleanup: Cleanup): Promise<DevIdentity> {
  const given: DirectoryContent = options.directoryFile
    ? (await directorySource(options.directoryFile)()).content
    : { approvers: [] };
  const people = [...given.approvers, ...(given.requesters ?? [])];
  const serveClient = { clientId: DEV_CHANNEL, clientSecret: randomBytes(24).toString('base64url') };
  const serviceClient = { clientId: DEV_SERVICE_CLIENT, clientSecret: randomBytes(24).toString('base64url') };
  // Each service in the directory is a client of the provider, under its own id, as it would be at a real one.
  const services = new Map(
    people
      .filter((person) => person.kind === 'service')
      .map((person) => [person.id, randomBytes(24).toString('base64url')] as const),
  );
  // Loaded only when a stack asks for it: oidc-provider warns at load time on Node 20, and most commands never need it.
  const { startIdentityProvider } = await import('./identity-provider.js');
  const provider = await startIdentityProvider({
    ...(options.port ? { port: options.port } : {}),
    people: people.map((person) => ({ id: person.id, ...(person.email ? { email: person.email } : {}) })),
    clients: [
      { ...serveClient, grant: 'code', redirectUris: [`${options.serveBaseUrl}/callback`] },
      { ...serviceClient, grant: 'client_credentials' },
      ...[...services].map(([clientId, clientSecret]) => ({
        clientId,
        clientSecret,
        grant: 'client_credentials' as const,
      })),
    ],
  });
  cleanup.add('the development identity provider', () => provider.close());
  const key = await ensureSigningKey(join(options.dir, 'keys'), 'channel');
  const publicKey = createPublicKey(key.signer.privateKey).export({ format: 'pem', type: 'spki' }).toString();
  const directoryFile = join(options.dir, 'directory-with-identities.json');
  await writeFile(directoryFile, `${JSON.stringify(withIdentities(given, provider, publicKey), null, 2)}\n`);
  return {
    provider,
    directoryFile,
    serveClient,
    serviceClient,
    channel: { name: DEV_CHANNEL, privateKey: key.signer.privateKey },
    serviceToken: (id) => {
      const secret = services.get(id);
      if (!secret) throw new Error(`${id} is not a service in the directory`);
      return provider.clientCredentialsToken(id, secret);
    },
  };
}

/** The directory as given, trusting the provider and the channel, with each person's login there. */
function withIdentities(given: DirectoryContent, provider: DevIdentityProvider, channelKey: string): DirectoryContent {
  const login = (id: string) => [{ issuer: provider.issuer, subject: id }];
  const signingIn = <T extends { id: string; logins?: Array<{ issuer: string; subject: string }> }>(person: T) => ({
    ...person,
    logins: [...(person.logins ?? []), ...login(person.id)],
  });
  return {
    ...given,
    approvers: given.approvers.map(signingIn),
    requesters: [
      ...(given.requesters ?? []).map(signingIn),
      // Scripts on this machine submit as this service with a client-credentials token.
      { id: DEV_SERVICE_CLIENT, kind: 'service', groups: [], logins: login(DEV_SERVICE_CLIENT) },
    ],
    identityProviders: [
      ...(given.identityProviders ?? []),
      { issuer: provider.issuer, audiences: [DEV_CHANNEL, provider.audience] },
    ],
    channels: [...(given.channels ?? []), { name: DEV_CHANNEL, publicKey: channelKey }],
  };
}
