import type pg from 'pg';
import { HASH_BYTES } from '../verify/hash.js';
import type { NodeId } from '../verify/subtree.js';

/**
 * The one module that reads and writes the ledger's checkpoints (writ.checkpoints) and its stored
 * Merkle tree (writ.merkle_nodes, grown by writ.merkle_extend). Everything else asks here, so the
 * SQL of the evidence tables sits in one place; the verifier itself never touches storage.
 */
export interface TreeHead {
  chainId: string;
  size: number;
  root: Buffer;
}

export interface StoredCheckpoint {
  size: number;
  note: string;
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
      row = (
        await pool.query<{ size: string; root: Buffer; added: number }>(
          'SELECT size, root, added FROM writ.merkle_extend($1, $2)',
          [chainId, PAGE],
        )
      ).rows[0]!;
    } catch (error) {
      throw explainCheckpointerError(error);
    }
    if (row.added < PAGE) return { chainId, size: Number(row.size), root: row.root };
  }
}

/**
 * Stores a signed checkpoint unless one of that size exists, and returns the stored note: Ed25519
 * signatures are deterministic, but the stored one stays the single truth for its size.
 */
export async function storeCheckpoint(pool: pg.Pool, head: TreeHead, note: string): Promise<string> {
  const inserted = await pool
    .query('INSERT INTO writ.checkpoints (chain_id, size, root, note) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
      head.chainId,
      head.size,
      head.root,
      note,
    ])
    .catch((error: unknown) => {
      throw explainCheckpointerError(error);
    });
  if (inserted.rowCount) return note;
  return (
    await pool.query<{ note: string }>('SELECT note FROM writ.checkpoints WHERE chain_id = $1 AND size = $2', [
      head.chainId,
      head.size,
    ])
  ).rows[0]!.note;
}

/** Every checkpoint the ledger's own table holds for a chain. */
export async function listCheckpoints(pool: pg.Pool, chainId: string): Promise<StoredCheckpoint[]> {
  const result = await pool.query<{ size: string; note: string }>(
    'SELECT size, note FROM writ.checkpoints WHERE chain_id = $1',
    [chainId],
  );
  return result.rows.map((row) => ({ size: Number(row.size), note: row.note }));
}

export async function newestCheckpoint(pool: pg.Pool, chainId: string): Promise<StoredCheckpoint | null> {
  const result = await pool.query<{ size: string | number; note: string }>(
    'SELECT size, note FROM writ.checkpoints WHERE chain_id = $1 ORDER BY size DESC LIMIT 1',
    [chainId],
  );
  const row = result.rows[0];
  return row ? { size: Number(row.size), note: row.note } : null;
}

/** Chains with a checkpoint: a chain whose records were all deleted is still known by these. */
export async function checkpointedChains(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ chain_id: string }>('SELECT DISTINCT chain_id FROM writ.checkpoints');
  return result.rows.map((row) => row.chain_id);
}

/**
 * One index probe per node, whatever the planner estimates: the fence (OFFSET 0) stops it from
 * flattening the lateral join, and asked for 25,000 nodes at once the plain `IN (unnest ...)` form
 * became a hash join over a scan of every stored node. The hashes come back as one value, in the
 * order asked, rather than as a row each for the driver to parse (BENCHMARKS.md, P5).
 */
const NODES_IN_ORDER = `
  SELECT string_agg(m.hash, ''::bytea ORDER BY w.ord) AS hashes,
         coalesce(sum(octet_length(m.hash)), 0)::int AS bytes,
         coalesce(array_agg(w.ord::int) FILTER (WHERE m.hash IS NULL), '{}') AS absent
    FROM unnest($2::smallint[], $3::bigint[]) WITH ORDINALITY AS w(level, idx, ord)
    LEFT JOIN LATERAL (
      SELECT n.hash FROM writ.merkle_nodes n
       WHERE n.chain_id = $1 AND n.level = w.level AND n.idx = w.idx
      OFFSET 0
    ) m ON true`;

/** The stored complete subtrees asked for, keyed `level/index`, in one query; absent ones are left out. */
export async function fetchNodes(
  pool: pg.Pool,
  chainId: string,
  nodes: readonly NodeId[],
): Promise<Map<string, Buffer>> {
  if (!nodes.length) return new Map();
  const result = await pool.query<{ hashes: Buffer | null; bytes: number; absent: number[] }>(NODES_IN_ORDER, [
    chainId,
    nodes.map((n) => n.level),
    nodes.map((n) => n.index),
  ]);
  const { hashes, bytes, absent } = result.rows[0]!;
  const missing = new Set(absent.map((ordinal) => ordinal - 1));
  if (bytes !== HASH_BYTES * (nodes.length - missing.size))
    throw new Error(`the stored Merkle tree of chain ${chainId} holds a node that is not 32 bytes: run writ verify`);
  const found = new Map<string, Buffer>();
  let at = 0;
  nodes.forEach((node, i) => {
    if (missing.has(i)) return;
    found.set(`${node.level}/${node.index}`, hashes!.subarray(at, (at += HASH_BYTES)));
  });
  return found;
}

/** A permission error names what is missing: the checkpointer's own role, not the writer's. */
export function explainCheckpointerError(error: unknown): unknown {
  if ((error as { code?: string }).code !== '42501') return error;
  return new Error(
    `${(error as Error).message}: checkpoints are written by a login holding writ_checkpointer; set WRIT_CHECKPOINT_DATABASE_URL to one (docs: README, "Ledger roles")`,
    { cause: error },
  );
}
