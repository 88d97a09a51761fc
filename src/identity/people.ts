import type { KeyObject } from 'node:crypto';
import type { DirectoryContent } from '../approvals/directory.js';
import { canonicalId } from '../model/identity.js';
import type { PinnedChannel } from '../verify/channel-assertion.js';
import { approverKeyId, parsePublicKey } from '../verify/decision-signature.js';
import type { TrustedProvider } from '../verify/provider-token.js';

/** One person of the directory, as every channel recognises them. */
export interface Person {
  id: string;
  kind: 'user' | 'service';
  key?: KeyObject;
  keyId?: string;
}

/**
 * The directory read for identity: who a provider's subject, a verified email, a Slack user or a
 * key belongs to. Approvers and requesters are one set of people; a person listed in both is one
 * person, and recognising them two different ways is a directory error.
 */
export interface People {
  providers: TrustedProvider[];
  channels: PinnedChannel[];
  slackTeams: string[];
  byId(id: string): Person | undefined;
  byLogin(issuer: string, subject: string): Person | undefined;
  byVerifiedEmail(email: string): Person | undefined;
  bySlack(team: string, user: string): Person | undefined;
}

type Entry = DirectoryContent['approvers'][number];

// A parsed directory never changes (a new version is a new object), so each is read for identity once.
const read = new WeakMap<DirectoryContent, People>();

export function peopleOf(content: DirectoryContent): People {
  let people = read.get(content);
  if (!people) {
    people = readPeople(content);
    read.set(content, people);
  }
  return people;
}

function readPeople(content: DirectoryContent): People {
  const people = new Map<string, Person>();
  const logins = new Map<string, Person>();
  const emails = new Map<string, Person>();
  const slack = new Map<string, Person>();
  const claim = <T>(map: Map<string, T>, key: string, value: T, what: string) => {
    const held = map.get(key);
    if (held !== undefined && held !== value)
      throw new Error(`invalid approver directory: ${what} is listed for two people`);
    map.set(key, value);
  };
  const entries: Entry[] = [...content.approvers, ...(content.requesters ?? [])];
  for (const entry of entries) {
    const person = people.get(entry.id) ?? { id: entry.id, kind: entry.kind ?? 'user' };
    if (entry.publicKey && !person.key) {
      person.key = parsePublicKey(entry.publicKey);
      person.keyId = approverKeyId(person.key);
    }
    people.set(entry.id, person);
    for (const login of entry.logins ?? [])
      claim(logins, `${login.issuer}\n${login.subject}`, person, `login ${login.subject} at ${login.issuer}`);
    if (entry.email) claim(emails, entry.email.trim().toLowerCase(), person, `email ${entry.email}`);
    for (const user of entry.slack ?? []) claim(slack, `${user.team}\n${user.user}`, person, `Slack user ${user.user}`);
  }
  const channels = (content.channels ?? []).map((channel) => {
    const key = parsePublicKey(channel.publicKey);
    return { name: channel.name, key, keyId: approverKeyId(key) };
  });
  return {
    providers: (content.identityProviders ?? []).map(({ issuer, audiences }) => ({ issuer, audiences })),
    channels,
    slackTeams: content.slackTeams ?? [],
    byId: (id) => {
      const canonical = canonicalId(id);
      return canonical.ok ? people.get(canonical.id) : undefined;
    },
    byLogin: (issuer, subject) => logins.get(`${issuer}\n${subject}`),
    byVerifiedEmail: (email) => emails.get(email.trim().toLowerCase()),
    bySlack: (team, user) => slack.get(`${team}\n${user}`),
  };
}
