import type pg from 'pg';
import type { AnchorSink } from './anchors.js';
import { formatCheckpoint, signCheckpoint } from '../verify/checkpoint.js';
import type { NoteSigner } from '../verify/note.js';
import { extendTree, storeCheckpoint } from './store.js';
import { stampCheckpoint } from './tsa-stamp.js';

export interface CheckpointOptions {
  signer: NoteSigner;
  /** The log's name; each chain's checkpoints carry `<origin>/<chain>`. */
  origin: string;
  anchors: AnchorSink[];
  /** An RFC 3161 time-stamp authority that stamps each checkpoint: WRIT_TSA_URL. */
  tsa?: { url: string };
}

export interface WrittenCheckpoint {
  chainId: string;
  size: number;
  root: string;
  note: string;
  anchoredIn: string[];
  /** The TSA's time for this checkpoint, when one stamped it. */
  genTime?: string;
}

export function originFor(origin: string, chainId: string): string {
  return `${origin}/${chainId}`;
}

/**
 * Signs the chain's current root, stores the checkpoint and anchors it in every sink. An anchor
 * that fails makes the call fail (after the others were tried): a checkpoint nobody outside holds
 * proves nothing against a superuser. A TSA that fails likewise fails the call, after the
 * checkpoint was stored and anchored: a missing time-stamp is a finding, not a lost checkpoint.
 */
export async function writeCheckpoint(
  pool: pg.Pool,
  chainId: string,
  options: CheckpointOptions,
): Promise<WrittenCheckpoint> {
  const head = await extendTree(pool, chainId);
  const body = formatCheckpoint({ origin: originFor(options.origin, chainId), size: head.size, root: head.root });
  const note = await storeCheckpoint(pool, head, signCheckpoint(body, options.signer));
  const failures: string[] = [];
  const anchoredIn: string[] = [];
  for (const sink of options.anchors) {
    try {
      await sink.put(chainId, head.size, note);
      anchoredIn.push(sink.name);
    } catch (error) {
      failures.push(`${sink.name}: ${(error as Error).message}`);
    }
  }
  const stamped = options.tsa ? await stampCheckpoint(pool, head, note, options.tsa.url) : null;
  if (failures.length)
    throw new Error(`checkpoint ${chainId}@${head.size} stored but not anchored in: ${failures.join('; ')}`);
  if (stamped && 'error' in stamped)
    throw new Error(`checkpoint ${chainId}@${head.size} stored but not time-stamped: ${stamped.error}`);
  return {
    chainId,
    size: head.size,
    root: head.root.toString('base64'),
    note,
    anchoredIn,
    ...(stamped ? { genTime: stamped.genTime } : {}),
  };
}
