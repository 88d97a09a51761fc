import { relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import type { RollbackContract } from '../../model/contract.js';
import type { Effect } from '../../model/policy.js';
import type { Json, JsonObject } from '../../model/json.js';
import type { ActionCall, Connector, ConnectorAction } from '../types.js';
import { ConnectorInputError } from '../types.js';
import type { Intended } from './change.js';
import { applyOnce } from './change.js';
import { journal } from './journal.js';
import type { Place } from './paths.js';
import { lexicalPath, locate, relativeTarget } from './paths.js';
import type { OnDisk } from './state.js';
import { isBase64, parseState, readOnDisk, snapshotOf, stateOf, versionOf } from './state.js';

export interface FilesConnectorOptions {
  /** Targets are paths relative to it; nothing outside it is ever read or written. */
  root: string;
  name?: string;
  rollbackWindowMs?: number;
}

const DEFAULT_WINDOW_MS = 7 * 24 * 3600 * 1000;
/** Predictable whatever the worker's umask; a replace keeps the file's own mode. */
const NEW_FILE_MODE = 0o644;

const contentParams = z
  .strictObject({
    content: z.string(),
    encoding: z.enum(['utf8', 'base64']).optional(),
  })
  .refine((p) => p.encoding !== 'base64' || isBase64(p.content), { path: ['content'], message: 'is not valid base64' });

type ContentParams = z.infer<typeof contentParams>;

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/** One action: what the file should be afterwards, and when the action cannot run at all. */
interface Kind<P> {
  name: 'write' | 'replace' | 'delete';
  effect: Effect;
  params: z.ZodType<P>;
  /** `currentMode`: the file's mode now, null when it is absent. */
  intended(params: P, currentMode: number | null): Intended;
  problems(place: Place, current: OnDisk): string[];
  summary(target: string, before: Intended, after: Intended): string;
}

const bytesOf = (params: ContentParams) => Buffer.from(params.content, params.encoding ?? 'utf8');

const write: Kind<ContentParams> = {
  name: 'write',
  effect: 'create',
  params: contentParams,
  intended: (params) => ({ bytes: bytesOf(params), mode: NEW_FILE_MODE }),
  problems: (place, current) => [
    ...(place.directoryExists
      ? []
      : [`the directory of ${place.target} does not exist; this connector creates files, not directories`]),
    ...(current.bytes === undefined ? [] : [`${place.target} already exists; use replace`]),
  ],
  summary: (target, _before, after) =>
    `would create ${target} (${after?.bytes.length ?? 0} bytes, mode ${octal(after?.mode ?? NEW_FILE_MODE)})`,
};

const replace: Kind<ContentParams> = {
  name: 'replace',
  effect: 'modify',
  params: contentParams,
  intended: (params, currentMode) => ({ bytes: bytesOf(params), mode: currentMode ?? NEW_FILE_MODE }),
  problems: (place, current) => (current.bytes === undefined ? [`${place.target} does not exist; use write`] : []),
  summary: (target, before, after) =>
    `would replace ${target} (${before?.bytes.length ?? 0} → ${after?.bytes.length ?? 0} bytes, mode ${octal(after?.mode ?? NEW_FILE_MODE)} kept)`,
};

const remove: Kind<Record<string, never>> = {
  name: 'delete',
  effect: 'delete',
  params: z.strictObject({}),
  intended: () => null,
  problems: (place, current) => (current.bytes === undefined ? [`${place.target} does not exist`] : []),
  summary: (target, before) => `would delete ${target} (${before?.bytes.length ?? 0} bytes)`,
};

const stateJson = (intended: Intended): Json => (intended === null ? null : stateOf(intended.bytes, intended.mode));

/** Versions and sizes, not content: verdicts stay small in the ledger whatever the file size. */
const digest = (bytes: Buffer | undefined, mode: number): Json =>
  bytes === undefined ? null : { version: versionOf(bytes), size: bytes.length, mode };

export function filesConnector(options: FilesConnectorOptions): Connector {
  const { root } = options;

  const contract: RollbackContract = {
    supportsDryRun: true,
    sideEffects: 'none-on-dry-run',
    canRollback: true,
    method: 'snapshot-restore',
    windowMs: options.rollbackWindowMs ?? DEFAULT_WINDOW_MS,
    limitations:
      'a rollback puts back the bytes and permission bits the file had before the write (or deletes a file the write created), overwriting changes others made after it; ' +
      'ownership, extended attributes, ACLs, timestamps and hard links are not restored, because every write is a new file renamed into place; ' +
      `new files get mode ${octal(NEW_FILE_MODE)}; directories are never created or removed; ` +
      'a process killed in the middle of a write can leave a hidden temp file (.name.writ-….tmp) beside the target, never a partial target; ' +
      'whole files are kept in snapshots, so large files make large ledger records',
  };

  const identity = (call: ActionCall<unknown>) => `file:${lexicalPath(root, call.target)}`;

  /**
   * The file as the file system reaches it: `./prod/x`, `prod//x` and a directory link inside the
   * root that leads to `prod` all resolve to `prod/x` (policy matches this, relative to the root).
   */
  const resolveTarget = async (call: ActionCall<unknown>) => {
    const place = await locate(root, call.target);
    const target = relative(place.root, place.path).split(sep).join('/');
    return { target, identity: `file:${lexicalPath(root, target)}` };
  };

  const action = <P>(kind: Kind<P>): ConnectorAction<P> => ({
    params: kind.params,
    contract,
    identity,
    resolve: resolveTarget,
    effect: () => ({ effect: kind.effect, action: kind.name }),
    async validate({ target }) {
      const place = await locate(root, target);
      return kind.problems(place, await readOnDisk(place));
    },
    snapshot: async ({ target }) => snapshotOf(await readOnDisk(await locate(root, target))),
    async preview({ target, params }, before) {
      const was = parseState(before.state, 'the snapshot');
      const after = kind.intended(params, was?.mode ?? null);
      return {
        before: before.state,
        after: stateJson(after),
        summary: kind.summary(relativeTarget(target), was, after),
      };
    },
    async execute({ target, params }, { idempotencyKey, before }) {
      const place = await locate(root, target);
      const afterVersion = versionOf(kind.intended(params, null)?.bytes);
      const applied = await applyOnce(idempotencyKey, place, {
        action: kind.name,
        afterVersion,
        create: kind.name === 'write',
        decide(current, pendingSince) {
          if (pendingSince !== undefined) {
            if (current.version !== pendingSince && current.version !== afterVersion) {
              throw new ConnectorInputError(
                `${target} changed while an interrupted ${kind.name} was pending; it was left as it is`,
              );
            }
            return kind.intended(params, current.bytes === undefined ? null : current.mode);
          }
          const problems = kind.problems(place, current);
          if (!problems.length && current.version !== before.version) {
            problems.push(
              `${target} changed since it was read (it is ${current.version}, not ${before.version}); read it again and resubmit`,
            );
          }
          if (problems.length) throw new ConnectorInputError(problems.join('; '));
          return kind.intended(params, current.bytes === undefined ? null : current.mode);
        },
      });
      const intended = kind.intended(params, applied.mode);
      const detail: JsonObject = { path: place.path, version: afterVersion, repeated: applied.repeated };
      return { after: stateJson(intended), detail };
    },
    // Against the bytes the call asked for, never against what execute reported.
    async verify({ target, params }) {
      const disk = await readOnDisk(await locate(root, target));
      const observed = digest(disk.bytes, disk.mode);
      const asked = kind.intended(params, disk.mode);
      if (asked === null) {
        return disk.bytes === undefined
          ? { ok: true, observed, expected: null }
          : { ok: false, observed, expected: null, reason: `${target} exists again after it was deleted` };
      }
      const expected: Json = { version: versionOf(asked.bytes), size: asked.bytes.length };
      if (disk.bytes === undefined) return { ok: false, observed, expected, reason: `${target} is missing` };
      if (disk.version !== versionOf(asked.bytes)) {
        return {
          ok: false,
          observed,
          expected,
          reason: `${target} holds other bytes than were asked (${disk.bytes.length} bytes, ${disk.version}; asked ${asked.bytes.length} bytes, ${versionOf(asked.bytes)})`,
        };
      }
      return { ok: true, observed, expected };
    },
    async rollback({ target }, { idempotencyKey, before }) {
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
        action: `${kind.name}:rollback`,
        afterVersion: before.version,
        create: false,
        decide: () => restore,
      });
      return { restored: before.state, detail: { path: place.path, repeated } };
    },
  });

  return {
    name: options.name ?? 'files',
    description: `files under ${resolve(root)}, written atomically (temp file, fsync, rename) and restored from snapshots`,
    actions: { write: action(write), replace: action(replace), delete: action(remove) },
  };
}
