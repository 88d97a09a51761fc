import type pg from 'pg';
import { CompactRange } from './compact-range.js';
import { leafHash } from './merkle.js';
import type { NodeId } from './subtree.js';

export interface TreeHead {
  chainId: string;
  size: number;
  root: Buffer;
}

const PAGE = 5000;

/**
 * Brings the stored Merkle tree of a chain up to its newest record and returns the root.
 * Only the O(log n) frontier is read back; new leaves come from records after the stored size.
 * Concurrent extenders compute the same nodes, so inserts ignore ones already there.
 */
export async function extendTree(pool: pg.Pool, chainId: string): Promise<TreeHead> {
  const stored = await pool.query<{ size: string | number | null }>(
    'SELECT max(idx) + 1 AS size FROM writ.merkle_nodes WHERE chain_id = $1 AND level = 0', [chainId]);
  const size = Number(stored.rows[0]?.size ?? 0);
  const frontier = CompactRange.nodesOf(size);
  const hashes = await fetchNodes(pool, chainId, frontier);
  const range = CompactRange.fromNodes(size, frontier.map((node) => {
    const hash = hashes.get(key(node));
    if (!hash) throw new Error(`the stored Merkle tree of chain ${chainId} lacks node ${node.level}/${node.index}; rebuild it from the records`);
    return hash;
  }));
  for (let after = size; ; ) {
    const rows = await pool.query<{ seq: number; canonical: Buffer }>(
      'SELECT seq, canonical FROM writ.records WHERE chain_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq', [chainId, after, after + PAGE]);
    if (!rows.rows.length) break;
    const nodes: Array<[NodeId, Buffer]> = [];
    for (const row of rows.rows) {
      // Leaf i of the tree is record seq i+1: a gap would silently shift every leaf after it.
      if (row.seq !== range.size + 1) throw new Error(`chain ${chainId} has no record ${range.size + 1}: run writ verify`);
      range.append(leafHash(row.canonical), (node, hash) => nodes.push([node, hash]));
    }
    await pool.query(
      `INSERT INTO writ.merkle_nodes (chain_id, level, idx, hash)
       SELECT $1, level, idx, hash FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]) AS n(level, idx, hash)
       ON CONFLICT DO NOTHING`,
      [chainId, nodes.map(([n]) => n.level), nodes.map(([n]) => n.index), nodes.map(([, h]) => h)]);
    after += PAGE;
  }
  return { chainId, size: range.size, root: range.root() };
}

function key(node: NodeId): string {
  return `${node.level}/${node.index}`;
}

async function fetchNodes(pool: pg.Pool, chainId: string, nodes: NodeId[]): Promise<Map<string, Buffer>> {
  if (!nodes.length) return new Map();
  const result = await pool.query<{ level: number; idx: string | number; hash: Buffer }>(
    `SELECT level, idx, hash FROM writ.merkle_nodes
      WHERE chain_id = $1 AND (level, idx) IN (SELECT * FROM unnest($2::smallint[], $3::bigint[]))`,
    [chainId, nodes.map((n) => n.level), nodes.map((n) => n.index)]);
  return new Map(result.rows.map((row) => [`${row.level}/${Number(row.idx)}`, row.hash]));
}
