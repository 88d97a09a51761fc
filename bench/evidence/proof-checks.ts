/**
 * `npm run bench -- evidence-proofs`: the inclusion-proof check a bundle verifier runs once per
 * record (a 1,000-operation bundle holds about 10,600 proofs of 20 hashes), against the floor of the
 * same hashing: one SHA-256 of a 65-byte node per proof step, with nothing around it. In process,
 * no database; alternating rounds, so both sides meet the same machine.
 */
import { hash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { leafHash, nodeHash, verifyInclusion } from '../../src/verify/merkle.js';
import { log, ratio } from '../support.js';

const DEPTH = 20;
const PROOFS = 10_000;
const ROUNDS = 5;

/** A perfect tree of 2^DEPTH leaves, level by level, so each proof is its path's siblings. */
function perfectTree(): Buffer[][] {
  const levels: Buffer[][] = [Array.from({ length: 2 ** DEPTH }, (_, i) => leafHash(Buffer.from(`record ${i}`)))];
  while (levels[levels.length - 1]!.length > 1) {
    const below = levels[levels.length - 1]!;
    const above: Buffer[] = [];
    for (let i = 0; i < below.length; i += 2) above.push(nodeHash(below[i]!, below[i + 1]!));
    levels.push(above);
  }
  return levels;
}

export async function benchProofChecks(): Promise<Record<string, number>> {
  const levels = perfectTree();
  const size = 2 ** DEPTH;
  const root = levels[DEPTH]![0]!;
  const indexes = Array.from({ length: PROOFS }, () => randomBytes(4).readUInt32BE() % size);
  const proofs = indexes.map((index) => levels.slice(0, DEPTH).map((level, l) => level[(index >> l) ^ 1]!));
  const node = Buffer.alloc(65, 1);
  const checks: number[] = [];
  const floors: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let started = performance.now();
    for (let k = 0; k < PROOFS; k++)
      if (!verifyInclusion(levels[0]![indexes[k]!]!, indexes[k]!, size, proofs[k]!, root))
        throw new Error(`proof ${k} does not verify`);
    checks.push(performance.now() - started);
    started = performance.now();
    for (let k = 0; k < PROOFS * DEPTH; k++) hash('sha256', node, 'buffer');
    floors.push(performance.now() - started);
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const perStep = (ms: number) => Math.round(((ms * 1000) / (PROOFS * DEPTH)) * 100) / 100;
  const check = perStep(median(checks));
  const floor = perStep(median(floors));
  log(
    `inclusion proofs: ${PROOFS} of ${DEPTH} hashes, ${check} µs a step (median of ${ROUNDS}); one-shot SHA-256 of 65 bytes: ${floor} µs`,
  );
  return { proof_check_us_per_step: check, proof_floor_us_per_step: floor, proof_check_ratio: ratio(check, floor) };
}
