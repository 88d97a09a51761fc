import type pg from 'pg';
import type { TimestampsFile } from '../../verify/bundle/format.js';
import { stampCheckpoint } from '../tsa-stamp.js';
import { bundleTimestamps } from '../tsa-store.js';

export interface BundleStamping {
  /** timestamps.json, or null when the ledger holds no token and no authority is configured. */
  bytes: Buffer | null;
  /** Set when the configured authority did not stamp the covering checkpoint: what it answered. */
  warning?: string;
}

/**
 * Stamps the covering checkpoint when an authority is configured and it has no token yet (a
 * checkpoint the export just signed, or one whose stamp failed before), then writes the tokens the
 * bundle carries. An authority that fails costs the token, never the export: the file says why the
 * checkpoint is unstamped and the caller warns.
 */
export async function stampAndCollect(
  pool: pg.Pool,
  covering: { chain: string; size: number; root: Buffer; note: string },
  options: { tsa?: { url: string }; checkpointPool?: pg.Pool },
): Promise<BundleStamping> {
  let unstamped = 'no time-stamp authority stamped it (WRIT_TSA_URL was not set)';
  let warning: string | undefined;
  if (options.tsa) {
    const head = { chainId: covering.chain, size: covering.size, root: covering.root };
    const stamped = await stampCheckpoint(options.checkpointPool ?? pool, head, covering.note, options.tsa.url);
    if ('error' in stamped) {
      unstamped = `the time-stamp authority did not stamp it at export: ${stamped.error}`;
      warning = `checkpoint ${covering.chain}@${covering.size} covers the export but is not time-stamped (the bundle says so): ${stamped.error}`;
    }
  }
  const stamps = await bundleTimestamps(pool, covering.chain, covering.size);
  if (!stamps.length && !options.tsa) return { bytes: null };
  const file: TimestampsFile = {
    checkpoint: covering.size,
    stamps: stamps.map((s) => ({ size: s.size, note: s.note, token: s.token.toString('base64') })),
    ...(stamps.some((s) => s.size === covering.size) ? {} : { unstamped }),
  };
  return { bytes: Buffer.from(`${JSON.stringify(file, null, 1)}\n`, 'utf8'), ...(warning ? { warning } : {}) };
}
