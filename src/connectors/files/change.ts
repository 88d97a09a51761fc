import { ConnectorInputError } from '../types.js';
import { removeFile, writeFileAtomically } from './atomic.js';
import { journal } from './journal.js';
import type { Place } from './paths.js';
import { relativeTarget } from './paths.js';
import type { OnDisk } from './state.js';
import { readOnDisk, versionOf } from './state.js';

/** What the file should be after a change; null: absent. */
export type Intended = { bytes: Buffer; mode: number } | null;

export interface Change {
  /** The journal's name for it: `write`, `replace:rollback`... */
  action: string;
  /** The version the file will have: known from the call alone, so a repeat is checked before any read. */
  afterVersion: string;
  /** Creating a file must not overwrite one that appeared after the read. */
  create: boolean;
  /**
   * What to make of the file as it is now; throws when the change must not happen. `pendingSince`
   * is the version before an earlier attempt that was interrupted (undefined on a first attempt).
   */
  decide(current: OnDisk, pendingSince: string | undefined): Intended;
}

export interface Applied {
  /** The mode the file was given (null: the file was removed). */
  mode: number | null;
  /** The version the file had before the first attempt under this key. */
  beforeVersion: string;
  repeated: boolean;
}

async function apply(place: Place, intended: Intended, create: boolean): Promise<void> {
  if (intended === null) return removeFile(place.path);
  if (!place.directoryExists)
    throw new ConnectorInputError(
      `the directory of ${place.target} does not exist; this connector creates files, not directories`,
    );
  try {
    await writeFileAtomically(place.path, intended.bytes, intended.mode, { exclusive: create });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new ConnectorInputError(`${place.target} was created by someone else meanwhile; it was left as it is`);
    throw error;
  }
}

const needsChange = (current: OnDisk, intended: Intended) =>
  current.version !== versionOf(intended?.bytes) || (intended !== null && current.mode !== intended.mode);

/**
 * Applies a change once per idempotency key. The journal entry is written `pending` before the
 * change and `done` after it: a retry after a crash in between finds the pending entry, so it
 * finishes its own half-done change (instead of refusing a file that "already exists") and still
 * knows the version from before the first attempt.
 */
export async function applyOnce(key: string, place: Place, change: Change): Promise<Applied> {
  const log = journal(place.root);
  const target = relativeTarget(place.target);
  const earlier = await log.read(key);
  if (
    earlier &&
    (earlier.target !== target || earlier.action !== change.action || earlier.afterVersion !== change.afterVersion)
  ) {
    throw new ConnectorInputError(
      `idempotency key ${key} was already used for ${earlier.action} of ${earlier.target} to ${earlier.afterVersion}; one key names one change`,
    );
  }
  if (earlier?.state === 'done')
    return { mode: earlier.afterMode, beforeVersion: earlier.beforeVersion, repeated: true };
  const current = await readOnDisk(place);
  const intended = change.decide(current, earlier?.beforeVersion);
  const record = {
    target,
    action: change.action,
    beforeVersion: earlier?.beforeVersion ?? current.version,
    afterVersion: change.afterVersion,
    afterMode: intended?.mode ?? null,
  };
  if (!earlier) await log.write(key, { state: 'pending', ...record });
  if (needsChange(current, intended)) await apply(place, intended, change.create && current.bytes === undefined);
  await log.write(key, { state: 'done', ...record });
  return { mode: record.afterMode, beforeVersion: record.beforeVersion, repeated: false };
}
