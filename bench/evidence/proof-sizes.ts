/**
 * How an inclusion proof grows with the ledger. The ledger at any earlier size n is the first n
 * records of this one, and its Merkle tree is made of the same stored nodes, so proofs for a
 * 1,000- or 32,000-record ledger come from the same tables with the same functions the exporter
 * uses, and each is checked against that size's root before it is counted.
 */
import type pg from 'pg';
import { leafHash, verifyInclusion } from '../../src/verify/merkle.js';
import type { NodeId } from '../../src/verify/subtree.js';
import {
  inclusionProofFrom,
  inclusionProofRanges,
  nodesCovering,
  rootFrom,
  subtreeHashesFromNodes,
} from '../../src/verify/subtree.js';
import { CHAIN } from './fill.js';
import type { Rng } from './random.js';

const LEAVES_PER_SIZE = 200;

export interface ProofSize {
  treeSize: number;
  meanHashes: number;
  maxHashes: number;
  /** ceil(log2(treeSize)): what RFC 9162 bounds an inclusion proof by. */
  log2: number;
}

export async function proofSizes(pool: pg.Pool, treeSizes: number[], rng: Rng): Promise<ProofSize[]> {
  const sizes: ProofSize[] = [];
  for (const treeSize of treeSizes) {
    const leaves = Array.from({ length: LEAVES_PER_SIZE }, () => rng.int(0, treeSize - 1));
    const leafHashes = await leafHashesOf(pool, leaves);
    const wanted = new Map<string, NodeId>();
    const want = (start: number, end: number) =>
      nodesCovering(start, end).forEach((node) => wanted.set(`${node.level}/${node.index}`, node));
    want(0, treeSize);
    for (const leaf of leaves) for (const range of inclusionProofRanges(leaf, treeSize)) want(range.start, range.end);
    const hashes = await nodeHashes(pool, [...wanted.values()]);
    const lookup = subtreeHashesFromNodes((level, index) => hashes.get(`${level}/${index}`)!);
    const root = rootFrom(treeSize, lookup);
    const lengths = leaves.map((leaf) => {
      const proof = inclusionProofFrom(leaf, treeSize, lookup);
      if (!verifyInclusion(leafHashes.get(leaf)!, leaf, treeSize, proof, root))
        throw new Error(`the proof of leaf ${leaf} at size ${treeSize} does not verify`);
      return proof.length;
    });
    sizes.push({
      treeSize,
      meanHashes: Math.round((lengths.reduce((a, b) => a + b, 0) / lengths.length) * 100) / 100,
      maxHashes: Math.max(...lengths),
      log2: Math.ceil(Math.log2(treeSize)),
    });
  }
  return sizes;
}

/** From the records' own bytes, not the stored leaves: the proof must lead from the evidence itself. */
async function leafHashesOf(pool: pg.Pool, leaves: number[]): Promise<Map<number, Buffer>> {
  const result = await pool.query<{ seq: number; canonical: Buffer }>(
    'SELECT seq, canonical FROM writ.records WHERE chain_id = $1 AND seq = ANY($2::bigint[])',
    [CHAIN, leaves.map((leaf) => leaf + 1)],
  );
  return new Map(result.rows.map((row) => [Number(row.seq) - 1, leafHash(row.canonical)]));
}

async function nodeHashes(pool: pg.Pool, nodes: NodeId[]): Promise<Map<string, Buffer>> {
  const result = await pool.query<{ level: number; idx: number; hash: Buffer }>(
    `SELECT level, idx, hash FROM writ.merkle_nodes
      WHERE chain_id = $1 AND (level, idx) IN (SELECT * FROM unnest($2::smallint[], $3::bigint[]))`,
    [CHAIN, nodes.map((n) => n.level), nodes.map((n) => n.index)],
  );
  return new Map(result.rows.map((row) => [`${row.level}/${Number(row.idx)}`, row.hash]));
}
