import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WritError } from '../../model/errors.js';
import { inParallel } from '../in-parallel.js';
import { FILES_IN_FLIGHT } from './write.js';

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
