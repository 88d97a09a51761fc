import type { KeyObject } from 'node:crypto';
import { canonicalId } from '../../model/identity.js';
import type { PinnedChannel } from '../channel-assertion.js';
import { approverKeyId, parsePublicKey } from '../decision-signature.js';
import type { TrustedProvider } from '../provider-token.js';

/**
 * A directory of people as a bundle records it (a governance.directory record's content), read
 * for re-checking proofs of identity: who a key, a provider login, a verified email or a Slack user
 * belongs to. The content is untrusted bytes here: reading it never throws, it says what is wrong.
 */
export interface RecordedPerson {
  id: string;
  key?: KeyObject;
  keyId?: string;
}

export interface RecordedDirectory {
  providers: TrustedProvider[];
  channels: PinnedChannel[];
  slackTeams: string[];
  byId(id: string): RecordedPerson | undefined;
  /** The person a provider's verified claims name: by issuer and subject, else by a verified email. */
  byLogin(claims: { iss: string; sub: string; email?: unknown; email_verified?: unknown }): RecordedPerson | undefined;
  bySlack(team: string, user: string): RecordedPerson | undefined;
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function keyOf(publicKey: unknown, what: string): { key: KeyObject; keyId: string } {
  try {
    const key = parsePublicKey(String(publicKey));
    return { key, keyId: approverKeyId(key) };
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`);
  }
}

/** The directory's people, providers and channels; throws only with a message naming what is unreadable. */
function readDirectory(content: unknown): RecordedDirectory {
  const directory = obj(content);
  const people = new Map<string, RecordedPerson>();
  const logins = new Map<string, RecordedPerson>();
  const emails = new Map<string, RecordedPerson>();
  const slack = new Map<string, RecordedPerson>();
  for (const raw of [...list(directory.approvers), ...list(directory.requesters)]) {
    const entry = obj(raw);
    const id = canonicalId(entry.id);
    if (!id.ok) throw new Error(`a person's id: ${id.problem}`);
    const person = people.get(id.id) ?? { id: id.id };
    if (entry.publicKey !== undefined && !person.key) Object.assign(person, keyOf(entry.publicKey, `${id.id}'s key`));
    people.set(id.id, person);
    for (const login of list(entry.logins))
      logins.set(`${text(obj(login).issuer)}\n${text(obj(login).subject)}`, person);
    const email = text(entry.email);
    if (email) emails.set(email.trim().toLowerCase(), person);
    for (const user of list(entry.slack)) slack.set(`${text(obj(user).team)}\n${text(obj(user).user)}`, person);
  }
  const channels = list(directory.channels).map((raw) => {
    const channel = obj(raw);
    const name = text(channel.name) ?? '';
    return { name, ...keyOf(channel.publicKey, `channel ${name}'s key`) };
  });
  const providers = list(directory.identityProviders).map((raw) => ({
    issuer: text(obj(raw).issuer) ?? '',
    audiences: list(obj(raw).audiences).filter((a): a is string => typeof a === 'string'),
  }));
  return {
    providers,
    channels,
    slackTeams: list(directory.slackTeams).filter((t): t is string => typeof t === 'string'),
    byId: (id) => {
      const canonical = canonicalId(id);
      return canonical.ok ? people.get(canonical.id) : undefined;
    },
    byLogin: (claims) => {
      const bySubject = logins.get(`${claims.iss}\n${claims.sub}`);
      if (bySubject) return bySubject;
      // An unverified email names no one, as the worker reads it (identity/map-login.ts).
      if (typeof claims.email === 'string' && claims.email_verified === true)
        return emails.get(claims.email.trim().toLowerCase());
      return undefined;
    },
    bySlack: (team, user) => slack.get(`${team}\n${user}`),
  };
}

/** The recorded directories of a bundle by version, each read once; a string where it cannot be read. */
export class RecordedDirectories {
  private readonly read = new Map<string, RecordedDirectory | string>();

  constructor(private readonly contents: ReadonlyMap<string, unknown>) {}

  get(version: unknown): RecordedDirectory | string {
    if (typeof version !== 'string') return 'the record names no directory version its proof was checked against';
    const held = this.read.get(version);
    if (held !== undefined) return held;
    let found: RecordedDirectory | string;
    if (!this.contents.has(version)) found = `the bundle holds no governance.directory record of ${version}`;
    else {
      try {
        found = readDirectory(this.contents.get(version));
      } catch (error) {
        found = `the directory ${version} cannot be read: ${(error as Error).message}`;
      }
    }
    this.read.set(version, found);
    return found;
  }
}
