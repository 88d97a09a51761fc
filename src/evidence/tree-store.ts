import type pg from 'pg';

export interface TreeHead {
  chainId: string;
  size: number;
  root: Buffer;
}

/** Records per call: each call is one transaction holding the chain's tree lock. */
const PAGE = 5000;

/**
 * Brings the stored Merkle tree of a chain up to its newest record and returns the root. The
 * database computes the nodes from the records (writ.merkle_extend, migrations/0004): no client,
 * not even the checkpointer, chooses a node's contents or position. Needs writ_checkpointer.
 */
export async function extendTree(pool: pg.Pool, chainId: string): Promise<TreeHead> {
  for (;;) {
    let row: { size: string; root: Buffer; added: number };
    try {
      row = (await pool.query<{ size: string; root: Buffer; added: number }>('SELECT size, root, added FROM writ.merkle_extend($1, $2)', [chainId, PAGE])).rows[0]!;
    } catch (error) {
      throw explainCheckpointerError(error);
    }
    if (row.added < PAGE) return { chainId, size: Number(row.size), root: row.root };
  }
}

/** A permission error names what is missing: the checkpointer's own role, not the writer's. */
export function explainCheckpointerError(error: unknown): unknown {
  if ((error as { code?: string }).code !== '42501') return error;
  return new Error(`${(error as Error).message}: checkpoints are written by a login holding writ_checkpointer; set WRIT_CHECKPOINT_DATABASE_URL to one (docs: README, "Ledger roles")`, { cause: error });
}
