import type pg from 'pg';
import type { TreeHead } from '../store.js';
import { requestTimestamp } from './client.js';
import { hasTimestamp, listTimestamps, storeTimestamp } from './store.js';

/**
 * Stamps a stored checkpoint once. Returns the TSA's time, or the error in words: the caller
 * reports it after its other duties, since the checkpoint stands with or without a stamp.
 */
export async function stampCheckpoint(
  pool: pg.Pool,
  head: TreeHead,
  note: string,
  url: string,
): Promise<{ genTime: string } | { error: string }> {
  try {
    if (await hasTimestamp(pool, head.chainId, head.size)) {
      const stored = (await listTimestamps(pool, head.chainId)).find((t) => t.size === head.size)!;
      return { genTime: stored.genTime.toISOString() };
    }
    const stamp = await requestTimestamp(url, note);
    await storeTimestamp(pool, head.chainId, head.size, stamp);
    return { genTime: stamp.genTime.toISOString() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
