import type pg from 'pg';
import type { ProofsFile } from '../../verify/bundle/format.js';
import type { LeafRange, NodeId } from '../../verify/subtree.js';
import { inclusionProofRanges, nodesCovering, rootFrom, subtreeHashesFromNodes } from '../../verify/subtree.js';
import { fetchNodes } from '../store.js';
import { rangeKey } from './range-key.js';
import type { BundleRecord } from './select.js';

/** Stored nodes read per query: a trace of ten thousand records at a million leaves needs about 25,000. */
const NODE_BATCH = 8192;

/** proofs.json's `nodes` and `proofs` (format 2). */
export type BundleProofs = Pick<ProofsFile, 'nodes' | 'proofs'>;

/**
 * RFC 9162 inclusion proofs from the stored complete subtrees. The nodes the root is made of are
 * checked against the signed root first, so damage there stops the export. A node changed below
 * them gives a proof that the verifiers refuse, naming its record; checking every proof here as
 * well cost more than half of building them (BENCHMARKS.md, P5).
 * Each subtree a path passes is written once, where a proof first needs it, and named by its place
 * after that: the ten thousand records of one trace at a million leaves share all but their lowest
 * few levels, so this is about a fifth of spelling every path out. Every path is laid out first,
 * so the stored nodes are read in a few large queries rather than one per batch of records.
 */
export async function buildProofs(
  pool: pg.Pool,
  chain: string,
  records: BundleRecord[],
  treeSize: number,
  root: Buffer,
  progress?: (done: number, total: number) => void,
): Promise<BundleProofs> {
  const rootNodes = nodesCovering(0, treeSize);
  const rootHashes = await fetchNodes(pool, chain, rootNodes);
  const computed = rootFrom(
    treeSize,
    subtreeHashesFromNodes((level, index) => need(rootHashes, chain, level, index)),
  );
  if (!computed.equals(root))
    throw new Error(
      `the stored Merkle tree of chain ${chain} does not hash to the checkpoint's root at size ${treeSize}: run writ verify`,
    );
  // A subtree's place in `nodes`, by its leaf range, in the order paths first need it.
  const placed = new Map<number | string, number>();
  const ranges: LeafRange[] = [];
  const proofs: ProofsFile['proofs'] = records.map((record) => ({
    seq: record.seq,
    leafIndex: record.seq - 1,
    path: inclusionProofRanges(record.seq - 1, treeSize).map((range) => {
      const key = rangeKey(range);
      let place = placed.get(key);
      if (place === undefined) placed.set(key, (place = ranges.push(range) - 1));
      return place;
    }),
  }));
  const wanted = new Map<string, NodeId>();
  for (const range of ranges)
    for (const node of nodesCovering(range.start, range.end)) wanted.set(`${node.level}/${node.index}`, node);
  const ids = [...wanted.values()];
  const hashes = new Map<string, Buffer>();
  for (let i = 0; i < ids.length; i += NODE_BATCH) {
    for (const [key, hash] of await fetchNodes(pool, chain, ids.slice(i, i + NODE_BATCH))) hashes.set(key, hash);
    progress?.(Math.round((records.length * Math.min(i + NODE_BATCH, ids.length)) / ids.length), records.length);
  }
  const fromNodes = subtreeHashesFromNodes((level, index) => need(hashes, chain, level, index));
  const nodes = ranges.map(({ start, end }) => Buffer.from(fromNodes(start, end)).toString('base64'));
  if (!ids.length) progress?.(records.length, records.length);
  return { nodes, proofs };
}

function need(hashes: Map<string, Buffer>, chain: string, level: number, index: number): Buffer {
  const hash = hashes.get(`${level}/${index}`);
  if (!hash)
    throw new Error(
      `the stored Merkle tree of chain ${chain} lacks node ${level}/${index}; rebuild it from the records`,
    );
  return hash;
}

/**
 * proofs.json: one node and one proof a line, so that a reader can find a record's proof with grep
 * and the file stays a fraction of the size that JSON.stringify's indentation (a line per path
 * entry) would give it.
 */
export function proofsFileBytes(file: ProofsFile): Buffer {
  const head = JSON.stringify({ chain: file.chain, treeSize: file.treeSize, root: file.root }).slice(0, -1);
  const nodes = file.nodes.map((node) => JSON.stringify(node)).join(',\n');
  const proofs = file.proofs.map((proof) => JSON.stringify(proof)).join(',\n');
  return Buffer.from(`${head},\n"nodes":[\n${nodes}\n],\n"proofs":[\n${proofs}\n]}\n`, 'utf8');
}
