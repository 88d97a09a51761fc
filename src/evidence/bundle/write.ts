import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { inParallel } from '../in-parallel.js';

/** Files in flight at once: enough to keep libuv's four threads busy, far below any descriptor limit. */
export const FILES_IN_FLIGHT = 16;

/**
 * Writes every file of a bundle into `dir`, each created anew ('wx': an existing file is an error,
 * never overwritten). A trace of a thousand operations has a thousand statements; written one after
 * another, each open, write and close waits on the thread pool in turn, which took longer than
 * building the bundle.
 */
export async function writeBundle(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  await inParallel([...files], FILES_IN_FLIGHT, ([name, bytes]) => writeFile(join(dir, name), bytes, { flag: 'wx' }));
}

/**
 * Writes the bundle beside `out` and renames it into place, so that `out` holds a whole bundle or
 * nothing: a bundle missing a file an auditor would not know to ask for is worse than none. `out`
 * must not exist or be an empty directory (rename replaces an empty directory, and refuses one
 * that is not). A write that fails removes what it wrote; a process killed mid-write leaves only
 * a directory named `.<out>.partial-*`.
 */
export async function writeBundleInPlace(out: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  await writeInPlace(out, (partial) => writeBundle(partial, files));
}

/**
 * An export that spans several chains: one bundle per chain, each in a directory named after its
 * chain, all renamed into place together, so `out` holds every chain's bundle or nothing.
 */
export async function writeBundlesInPlace(
  out: string,
  byChain: ReadonlyMap<string, ReadonlyMap<string, Uint8Array>>,
): Promise<void> {
  await writeInPlace(out, async (partial) => {
    for (const [chain, files] of byChain) {
      await mkdir(join(partial, chain));
      await writeBundle(join(partial, chain), files);
    }
  });
}

async function writeInPlace(out: string, write: (partial: string) => Promise<void>): Promise<void> {
  const target = resolve(out);
  await mkdir(dirname(target), { recursive: true });
  const partial = await mkdtemp(join(dirname(target), `.${basename(target)}.partial-`));
  try {
    await write(partial);
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}

/** Null when `out` can take a bundle (absent, or an empty directory); else why it cannot. */
export async function unusableOut(out: string): Promise<string | null> {
  try {
    if ((await readdir(out)).length) return `${out} is not empty: a bundle is written to a new or empty directory`;
    return null;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT') return null;
    return `cannot use ${out}: ${(error as Error).message}`;
  }
}
