import { UserType } from './vocabulary.js';

/** OCSF user objects for the people and services a record names: ids, kinds and groups only. */

export type OcsfObject = Record<string, unknown>;

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

function groupsOf(groups: string[]): OcsfObject {
  return groups.length ? { groups: groups.map((name) => ({ name })) } : {};
}

/** A record's envelope actor (`{ id, kind, groups }`): a person is a User, a service a System account. */
export function actorOf(actor: unknown): OcsfObject {
  const given = (actor && typeof actor === 'object' ? actor : {}) as Record<string, unknown>;
  const id = typeof given.id === 'string' && given.id ? given.id : 'unknown';
  const service = given.kind === 'service';
  const type = service ? UserType.system : UserType.user;
  const user = { uid: id, name: id, type_id: type.id, type: type.name, ...groupsOf(strings(given.groups)) };
  // A service is also named as the application that acted, as OCSF's actor.app_name says.
  return service ? { app_name: id, user } : { user };
}

/** The person who decided, as the decision record names them (a canonical id and their groups then). */
export function deciderOf(id: unknown, groups: unknown): OcsfObject {
  if (typeof id !== 'string' || !id) return { user: { uid: 'unknown', name: 'unknown', type_id: 0, type: 'Unknown' } };
  return {
    user: { uid: id, name: id, type_id: UserType.user.id, type: UserType.user.name, ...groupsOf(strings(groups)) },
  };
}
