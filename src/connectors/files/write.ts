import type { JsonObject } from '../../model/json.js';
import type { ActionCall, Execution, Snapshot } from '../types.js';
import { ConnectorInputError } from '../types.js';
import type { Kind } from './actions.js';
import type { Intended } from './change.js';
import { applyOnce } from './change.js';
import { locate } from './paths.js';
import type { Place } from './paths.js';
import type { OnDisk } from './state.js';
import { versionOf } from './state.js';
import { stateJson } from './read.js';

/**
 * What the file becomes, given the file as it is now; throws when it must be left alone. An
 * interrupted earlier attempt (`pendingSince`) is finished when the file is still as it left it.
 */
function decide<P>(
  kind: Kind<P>,
  { target, params }: ActionCall<P>,
  place: Place,
  versions: { before: string; after: string },
  current: OnDisk,
  pendingSince: string | undefined,
): Intended {
  if (pendingSince !== undefined) {
    if (current.version !== pendingSince && current.version !== versions.after) {
      throw new ConnectorInputError(
        `${target} changed while an interrupted ${kind.name} was pending; it was left as it is`,
      );
    }
    return kind.intended(params, current.bytes === undefined ? null : current.mode);
  }
  const problems = kind.problems(place, current);
  if (!problems.length && current.version !== versions.before) {
    problems.push(
      `${target} changed since it was read (it is ${current.version}, not ${versions.before}); read it again and resubmit`,
    );
  }
  if (problems.length) throw new ConnectorInputError(problems.join('; '));
  return kind.intended(params, current.bytes === undefined ? null : current.mode);
}

export async function execute<P>(
  root: string,
  kind: Kind<P>,
  call: ActionCall<P>,
  { idempotencyKey, before }: { idempotencyKey: string; before: Snapshot },
): Promise<Execution> {
  const place = await locate(root, call.target);
  const afterVersion = versionOf(kind.intended(call.params, null)?.bytes);
  const versions = { before: before.version, after: afterVersion };
  const applied = await applyOnce(idempotencyKey, place, {
    action: kind.name,
    afterVersion,
    create: kind.name === 'write',
    decide: (current, pendingSince) => decide(kind, call, place, versions, current, pendingSince),
  });
  const intended = kind.intended(call.params, applied.mode);
  const detail: JsonObject = { path: place.path, version: afterVersion, repeated: applied.repeated };
  return { after: stateJson(intended), detail };
}
