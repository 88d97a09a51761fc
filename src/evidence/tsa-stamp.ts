import type pg from 'pg';
import type { TreeHead } from './store.js';
import { requestTimestamp } from './tsa-client.js';
import { storeTimestamp, storedGenTime } from './tsa-store.js';

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
    const stored = await storedGenTime(pool, head.chainId, head.size);
    if (stored) return { genTime: stored.toISOString() };
    const stamp = await requestTimestamp(url, note);
    await storeTimestamp(pool, head.chainId, head.size, stamp);
    return { genTime: stamp.genTime.toISOString() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
