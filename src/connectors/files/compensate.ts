import type { ActionCall, RollbackResult, Snapshot } from '../types.js';
import { ConnectorInputError } from '../types.js';
import { applyOnce } from './change.js';
import { journal } from './journal.js';
import { locate } from './paths.js';
import { parseState, versionOf } from './state.js';

/** Puts back the bytes and mode the file had before the write, or removes a file the write created. */
export async function rollback(
  root: string,
  actionName: string,
  { target }: ActionCall<unknown>,
  { idempotencyKey, before }: { idempotencyKey: string; before: Snapshot },
): Promise<RollbackResult> {
  const place = await locate(root, target);
  const restore = parseState(before.state, 'the before state');
  if (versionOf(restore?.bytes) !== before.version) {
    throw new ConnectorInputError(
      `the before state of ${target} does not match its version ${before.version}; nothing was restored`,
    );
  }
  // A retried execute snapshots the file again after its own first attempt: "restoring" that
  // would quietly change nothing, so it is refused instead.
  const executed = await journal(place.root).read(idempotencyKey);
  if (executed && executed.beforeVersion !== before.version) {
    throw new ConnectorInputError(
      `the state to restore for ${target} (${before.version}) is not the one execution ${idempotencyKey} replaced (${executed.beforeVersion}); nothing was restored, restore it by hand`,
    );
  }
  const { repeated } = await applyOnce(`${idempotencyKey}/rollback`, place, {
    action: `${actionName}:rollback`,
    afterVersion: before.version,
    create: false,
    decide: () => restore,
  });
  return { restored: before.state, detail: { path: place.path, repeated } };
}
