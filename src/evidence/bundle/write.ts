import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
