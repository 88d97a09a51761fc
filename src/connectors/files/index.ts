import { resolve } from 'node:path';
import type { RollbackContract } from '../../model/contract.js';
import type { ActionCall, Connector, ConnectorAction } from '../types.js';
import type { Kind } from './actions.js';
import { NEW_FILE_MODE, octal, remove, replace, write } from './actions.js';
import { rollback } from './compensate.js';
import { lexicalPath } from './paths.js';
import { preview, resolveTarget, snapshot, validate } from './read.js';
import { verify } from './verify.js';
import { execute } from './write.js';

export interface FilesConnectorOptions {
  /** Targets are paths relative to it; nothing outside it is ever read or written. */
  root: string;
  name?: string;
  rollbackWindowMs?: number;
}

const DEFAULT_WINDOW_MS = 7 * 24 * 3600 * 1000;

const contractFor = (windowMs: number): RollbackContract => ({
  supportsDryRun: true,
  sideEffects: 'none-on-dry-run',
  canRollback: true,
  method: 'snapshot-restore',
  windowMs,
  limitations:
    'a rollback puts back the bytes and permission bits the file had before the write (or deletes a file the write created), overwriting changes others made after it; ' +
    'ownership, extended attributes, ACLs, timestamps and hard links are not restored, because every write is a new file renamed into place; ' +
    `new files get mode ${octal(NEW_FILE_MODE)}; directories are never created or removed; ` +
    'a process killed in the middle of a write can leave a hidden temp file (.name.writ-….tmp) beside the target, never a partial target; ' +
    'whole files are kept in snapshots, so large files make large ledger records',
});

/** One action: the connector's shared steps around what `kind` makes of the file. */
function fileAction<P>(root: string, contract: RollbackContract, kind: Kind<P>): ConnectorAction<P> {
  return {
    params: kind.params,
    contract,
    identity: (call: ActionCall<unknown>) => `file:${lexicalPath(root, call.target)}`,
    resolve: (call) => resolveTarget(root, call),
    effect: () => ({ effect: kind.effect, action: kind.name }),
    validate: ({ target }) => validate(root, kind, target),
    snapshot: ({ target }) => snapshot(root, target),
    preview: async (call, before) => preview(kind, call, before),
    execute: (call, context) => execute(root, kind, call, context),
    verify: (call) => verify(root, kind, call),
    rollback: (call, context) => rollback(root, kind.name, call, context),
  };
}

export function filesConnector(options: FilesConnectorOptions): Connector {
  const { root } = options;
  const contract = contractFor(options.rollbackWindowMs ?? DEFAULT_WINDOW_MS);
  return {
    name: options.name ?? 'files',
    description: `files under ${resolve(root)}, written atomically (temp file, fsync, rename) and restored from snapshots`,
    actions: {
      write: fileAction(root, contract, write),
      replace: fileAction(root, contract, replace),
      delete: fileAction(root, contract, remove),
    },
  };
}
