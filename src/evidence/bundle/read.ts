import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WritError } from '../../model/errors.js';
import { inParallel } from '../in-parallel.js';
import { FILES_IN_FLIGHT } from './write.js';
import { MANIFEST } from '../../verify/bundle/format.js';

/**
 * Every entry of a bundle directory as bytes, for the offline verifier, which reads no files
 * itself. Anything but a regular file is given as empty, so the verifier reports it as unlisted.
 */
export async function readBundle(dir: string): Promise<Map<string, Buffer>> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (error) {
    throw new WritError('BUNDLE_UNREADABLE', `cannot read ${dir}: ${(error as Error).message}`, undefined, {
      cause: error,
    });
  }
  const read = new Map<string, Buffer>();
  await inParallel(names, FILES_IN_FLIGHT, async (name) => {
    const path = join(dir, name);
    read.set(name, (await lstat(path)).isFile() ? await readFile(path) : Buffer.alloc(0));
  });
  // In name order, as readdir gave them, whatever order the reads finished in.
  return new Map(names.map((name) => [name, read.get(name)!]));
}

/**
 * The bundles of an export that spanned several chains (one directory per chain, each holding its
 * own manifest), or null when `dir` is not such an export: a bundle itself, or anything else,
 * which is then read and judged as one bundle.
 */
export async function chainBundleDirs(dir: string): Promise<string[] | null> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return null;
  }
  if (!names.length || names.includes(MANIFEST)) return null;
  for (const name of names) {
    const manifest = await lstat(join(dir, name, MANIFEST)).catch(() => null);
    if (!manifest?.isFile()) return null;
  }
  return names.map((name) => join(dir, name));
}
