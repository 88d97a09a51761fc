import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ConnectorInputError } from '../types.js';

/** Where the connector keeps its own records; no target may name it. */
export const JOURNAL_DIR = '.writ';

/** A target resolved inside the root. */
export interface Place {
  /** The target as given, for messages. */
  target: string;
  /** The real root (symlinks resolved), under which the journal lives. */
  root: string;
  /** The file's path, under the real path of its directory. */
  path: string;
  /** False when the directory the file would live in does not exist (nothing is created). */
  directoryExists: boolean;
}

const refuse = (target: string, why: string) =>
  new ConnectorInputError(`target ${JSON.stringify(target)} is refused: ${why}`);

/** The checks that need no file system: also what `identity`, which is synchronous, can apply. */
export function relativeTarget(target: string): string {
  if (target.includes('\0')) throw refuse(target, 'it contains a NUL character');
  if (isAbsolute(target)) throw refuse(target, 'absolute paths are outside the root; give a path relative to it');
  // Backslashes count as separators too, so a path written for Windows cannot smuggle `..` past us.
  const parts = target.split(/[\\/]/);
  if (parts.includes('..')) throw refuse(target, '".." could leave the root');
  const kept = parts.filter((part) => part !== '' && part !== '.');
  if (kept.length === 0) throw refuse(target, 'it names the root directory, not a file');
  // Lower-cased: on case-insensitive file systems `.WRIT` is the same directory.
  if (kept[0]!.toLowerCase() === JOURNAL_DIR) throw refuse(target, `${JOURNAL_DIR}/ holds the connector's own journal`);
  return kept.join('/');
}

const isInside = (root: string, path: string) => {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
};

const missing = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

/** The lexical path, for identities: stable whatever the file system holds. */
export const lexicalPath = (root: string, target: string) => resolve(root, relativeTarget(target));

/**
 * Resolves a target against the file system. Symlinks are followed in the directories (a link
 * inside the root to elsewhere inside it is fine) but the real directory must be inside the real
 * root; the file itself is opened without following links (see state.ts).
 */
export async function locate(rootOption: string, target: string): Promise<Place> {
  const rel = relativeTarget(target);
  let root: string;
  try {
    root = await realpath(rootOption);
  } catch (error) {
    if (missing(error)) throw new ConnectorInputError(`the files connector's root ${rootOption} does not exist`);
    throw error;
  }
  const wanted = dirname(join(root, rel));
  // A missing directory still has an existing ancestor, which must itself be inside the root.
  let existing = wanted;
  let real: string | undefined;
  while (real === undefined) {
    try {
      real = await realpath(existing);
    } catch (error) {
      if (!missing(error) || existing === root) throw error;
      existing = dirname(existing);
    }
  }
  if (!isInside(root, real))
    throw refuse(target, `its directory resolves to ${real}, outside the root ${root} (a symbolic link leads out)`);
  if (isInside(join(root, JOURNAL_DIR), real))
    throw refuse(target, `its directory resolves into ${JOURNAL_DIR}/, the connector's own journal`);
  const directoryExists = existing === wanted;
  return { target, root, path: directoryExists ? join(real, basename(rel)) : join(root, rel), directoryExists };
}
