import type pg from 'pg';
import type { ProofsFile } from '../../verify/bundle/format.js';
import type { NodeId } from '../../verify/subtree.js';
import {
  inclusionProofFrom,
  inclusionProofRanges,
  nodesCovering,
  rootFrom,
  subtreeHashesFromNodes,
} from '../../verify/subtree.js';
import { fetchNodes } from '../store.js';
import type { BundleRecord } from './select.js';

const PROOF_BATCH = 256;

/**
 * RFC 9162 inclusion proofs from the stored complete subtrees: each proof needs O(log n) nodes,
 * and the nodes of a batch of proofs are read in one query. The stored tree is checked against
 * the signed root first, so a damaged node table cannot yield proofs that fail only at the auditor.
 */
export async function buildProofs(
  pool: pg.Pool,
  chain: string,
  records: BundleRecord[],
  treeSize: number,
  root: Buffer,
  progress?: (done: number, total: number) => void,
): Promise<ProofsFile['proofs']> {
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
  const proofs: ProofsFile['proofs'] = [];
  // Every proof at one tree size ends in the same hashes of the tree's ragged right edge, each
  // costing up to log n hashings: computed once per export, not once per record.
  const edge = new Map<string, Uint8Array>();
  for (let i = 0; i < records.length; i += PROOF_BATCH) {
    const batch = records.slice(i, i + PROOF_BATCH);
    const wanted = new Map<string, NodeId>();
    for (const record of batch) {
      for (const range of inclusionProofRanges(record.seq - 1, treeSize)) {
        for (const node of nodesCovering(range.start, range.end)) wanted.set(`${node.level}/${node.index}`, node);
      }
    }
    const hashes = await fetchNodes(pool, chain, [...wanted.values()]);
    const fromNodes = subtreeHashesFromNodes((level, index) => need(hashes, chain, level, index));
    const lookup = (start: number, end: number): Uint8Array => {
      if (end < treeSize) return fromNodes(start, end);
      const key = `${start}/${end}`;
      let hash = edge.get(key);
      if (!hash) edge.set(key, (hash = fromNodes(start, end)));
      return hash;
    };
    for (const record of batch) {
      proofs.push({
        seq: record.seq,
        leafIndex: record.seq - 1,
        hashes: inclusionProofFrom(record.seq - 1, treeSize, lookup).map((h) => h.toString('base64')),
      });
    }
    progress?.(proofs.length, records.length);
  }
  return proofs;
}

function need(hashes: Map<string, Buffer>, chain: string, level: number, index: number): Buffer {
  const hash = hashes.get(`${level}/${index}`);
  if (!hash)
    throw new Error(
      `the stored Merkle tree of chain ${chain} lacks node ${level}/${index}; rebuild it from the records`,
    );
  return hash;
}
