import type pg from 'pg';
import type { AnchorSink } from './anchors.js';
import { formatCheckpoint, signCheckpoint } from './checkpoint.js';
import type { NoteSigner } from './note.js';
import { explainCheckpointerError, extendTree } from './tree-store.js';

export interface CheckpointOptions {
  signer: NoteSigner;
  /** The log's name; each chain's checkpoints carry `<origin>/<chain>`. */
  origin: string;
  anchors: AnchorSink[];
}

export interface WrittenCheckpoint {
  chainId: string;
  size: number;
  root: string;
  note: string;
  anchoredIn: string[];
}

export function originFor(origin: string, chainId: string): string {
  return `${origin}/${chainId}`;
}

/**
 * Signs the chain's current root, stores the checkpoint and anchors it in every sink. An anchor
 * that fails makes the call fail (after the others were tried): a checkpoint nobody outside holds
 * proves nothing against a superuser.
 */
export async function writeCheckpoint(pool: pg.Pool, chainId: string, options: CheckpointOptions): Promise<WrittenCheckpoint> {
  const head = await extendTree(pool, chainId);
  const body = formatCheckpoint({ origin: originFor(options.origin, chainId), size: head.size, root: head.root });
  let note = signCheckpoint(body, options.signer);
  const inserted = await pool.query('INSERT INTO writ.checkpoints (chain_id, size, root, note) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [chainId, head.size, head.root, note])
    .catch((error: unknown) => {
      throw explainCheckpointerError(error);
    });
  if (!inserted.rowCount) {
    // Ed25519 signatures are deterministic, but keep the stored one as the single truth for this size.
    note = (await pool.query<{ note: string }>('SELECT note FROM writ.checkpoints WHERE chain_id = $1 AND size = $2', [chainId, head.size])).rows[0]!.note;
  }
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
  if (failures.length) throw new Error(`checkpoint ${chainId}@${head.size} stored but not anchored in: ${failures.join('; ')}`);
  return { chainId, size: head.size, root: head.root.toString('base64'), note, anchoredIn };
}
