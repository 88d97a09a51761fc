import { checkRequestIdentity } from '../../identity/check-request.js';
import type { IdentityCheck } from '../../model/identity-proof.js';
import { NO_PROOF } from '../../model/identity-proof.js';
import type { Actor, OperationRequest } from '../../model/request.js';
import type { WritDeps } from './deps.js';

export type RequesterFinding =
  | { ok: true; actor: Actor; identity: IdentityCheck; actorAsGiven?: string; directoryVersion?: string }
  | { ok: false; problem: string; identity: IdentityCheck };

/**
 * Who the requester is: the person the request's proof establishes, or (where policy opts out
 * of verified identities) the id the request gives, marked asserted. Groups are always the
 * directory's. A proof that fails is a refusal even under the opt-out: a request that tried to
 * prove someone and could not must not go on as that someone.
 */
export async function findRequester(
  deps: WritDeps,
  request: OperationRequest & { operationId: string },
): Promise<RequesterFinding> {
  const loaded = await deps.policy();
  await deps.governance?.policy(loaded);
  const identity: IdentityCheck = deps.identity ? await checkRequestIdentity(request, deps.identity) : NO_PROOF;
  if (identity.problem)
    return { ok: false, problem: `the request's proof of identity is refused: ${identity.problem}`, identity };
  if (!identity.verified && loaded.policy.identity.requests === 'verified') {
    const problem =
      `policy ${loaded.policy.id} requires a verified identity for requests, and this request proves none: ` +
      'send a token from the identity provider or sign the request with your key (writ submit --token or --key)';
    return { ok: false, problem, identity };
  }
  const people = deps.directory ? await deps.directory() : undefined;
  const id = identity.verified ? identity.id! : request.actor.id;
  const kind = identity.verified ? (deps.identity ? await kindOf(deps, id) : request.actor.kind) : request.actor.kind;
  const actor: Actor = {
    id,
    kind,
    groups: people?.groupsOf(id) ?? [],
    identity: identity.verified ? 'verified' : 'asserted',
  };
  // The directory a proof was checked against, on the record, so an auditor re-checks it against the same one.
  const checkedUnder = request.identity && people ? { directoryVersion: people.version } : {};
  if (checkedUnder.directoryVersion) await deps.governance?.directory(people!);
  return {
    ok: true,
    actor,
    identity,
    ...(id !== request.actor.id ? { actorAsGiven: request.actor.id } : {}),
    ...checkedUnder,
  };
}

async function kindOf(deps: WritDeps, id: string): Promise<Actor['kind']> {
  const { people } = await deps.identity!.people();
  return people.byId(id)?.kind ?? 'user';
}
