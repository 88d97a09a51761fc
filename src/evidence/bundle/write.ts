import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Files in flight at once: enough to keep libuv's four threads busy, far below any descriptor limit. */
const IN_FLIGHT = 16;

/**
 * Writes every file of a bundle into `dir`, each created anew ('wx': an existing file is an error,
 * never overwritten). A trace of a thousand operations has a thousand statements; written one after
 * another, each open, write and close waits on the thread pool in turn, which took longer than
 * building the bundle.
 */
export async function writeBundle(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  await inParallel([...files], ([name, bytes]) => writeFile(join(dir, name), bytes, { flag: 'wx' }));
}

/** Runs `work` over `items` with at most IN_FLIGHT at once; the first failure rejects once the rest have settled. */
export async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item).catch((error: unknown) => void failures.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, items.length) }, lane));
  if (failures.length) throw failures[0];
}
