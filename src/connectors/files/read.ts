import { relative, sep } from 'node:path';
import type { Json } from '../../model/json.js';
import type { ActionCall, Preview, ResolvedTarget, Snapshot } from '../types.js';
import type { Kind } from './actions.js';
import type { Intended } from './change.js';
import { lexicalPath, locate, relativeTarget } from './paths.js';
import { parseState, readOnDisk, snapshotOf, stateOf } from './state.js';

export const stateJson = (intended: Intended): Json =>
  intended === null ? null : stateOf(intended.bytes, intended.mode);

/**
 * The file as the file system reaches it: `./prod/x`, `prod//x` and a directory link inside the
 * root that leads to `prod` all resolve to `prod/x` (policy matches this, relative to the root).
 */
export async function resolveTarget(root: string, call: ActionCall<unknown>): Promise<ResolvedTarget> {
  const place = await locate(root, call.target);
  const target = relative(place.root, place.path).split(sep).join('/');
  return { target, identity: `file:${lexicalPath(root, target)}` };
}

export async function validate<P>(root: string, kind: Kind<P>, target: string): Promise<string[]> {
  const place = await locate(root, target);
  return kind.problems(place, await readOnDisk(place));
}

export async function snapshot(root: string, target: string): Promise<Snapshot> {
  return snapshotOf(await readOnDisk(await locate(root, target)));
}

export function preview<P>(kind: Kind<P>, { target, params }: ActionCall<P>, before: Snapshot): Preview {
  const was = parseState(before.state, 'the snapshot');
  const after = kind.intended(params, was?.mode ?? null);
  return {
    before: before.state,
    after: stateJson(after),
    summary: kind.summary(relativeTarget(target), was, after),
  };
}
