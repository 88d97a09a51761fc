import type { Checkpoint } from '../checkpoint.js';
import { decodeBase64Strict } from '../base64.js';
import type { InclusionClaim } from '../inclusions.js';
import { verifyInclusions } from '../inclusions.js';
import { leafHash } from '../merkle.js';
import { sharesProofNodes } from './format.js';
import type { ParsedRecord, Report } from './parse.js';
import { isObject, parseJson } from './parse.js';

type ProofReport = (problem: string, seq: number) => void;

/**
 * proofs.json: one RFC 9162 inclusion proof per record, each leading to the checkpoint's root and
 * each checked on its own, so a failure names its record. `format` is the manifest's (null when
 * there is no manifest to go by): format 1 spells each proof's hashes out, later formats name them
 * by their place in one shared `nodes` list.
 */
export function checkProofs(
  data: Buffer,
  chain: string | null,
  checkpoint: Checkpoint | null,
  records: ParsedRecord[],
  format: string | null,
  report: Report,
): void {
  const value = parseJson(data, (problem) => report('PROOFS_MALFORMED', problem));
  if (value === undefined) return;
  if (
    !isObject(value) ||
    !Array.isArray(value.proofs) ||
    typeof value.treeSize !== 'number' ||
    typeof value.root !== 'string'
  )
    return report('PROOFS_MALFORMED', 'is not a proofs file (chain, treeSize, root, proofs)');
  const shared = 'nodes' in value;
  if (format !== null && sharesProofNodes(format) !== shared)
    return report('PROOFS_MALFORMED', `is a proofs file ${shared ? 'with' : 'without'} nodes in a ${format} bundle`);
  if (chain !== null && value.chain !== chain)
    report('WRONG_CHAIN', `chain ${JSON.stringify(value.chain)} is not the bundle's chain ${chain}`);
  const nodes = shared ? sharedNodes(value.nodes, report) : null;
  if (shared && !nodes) return;
  if (!checkpoint) return report('PROOFS_UNCHECKABLE', 'cannot be checked: there is no valid checkpoint');
  if (value.treeSize !== checkpoint.size)
    report('PROOFS_CHECKPOINT_MISMATCH', `treeSize ${value.treeSize} is not the checkpoint's size ${checkpoint.size}`);
  if (value.root !== checkpoint.root.toString('base64'))
    report('PROOFS_CHECKPOINT_MISMATCH', "root is not the checkpoint's root");
  const proofs = value.proofs as unknown[];
  if (proofs.length !== records.length)
    report('PROOFS_INCOMPLETE', `has ${proofs.length} proofs for ${records.length} records`);

  const malformed: ProofReport = (problem, seq) => report('PROOF_MALFORMED', problem, seq);
  const used = nodes ? new Uint8Array(nodes.length) : null;
  const claims: Array<InclusionClaim & { seq: number }> = [];
  records.forEach((record, i) => {
    const proof = proofs[i];
    const field = nodes ? 'path' : 'hashes';
    if (
      !isObject(proof) ||
      proof.seq !== record.seq ||
      proof.leafIndex !== record.seq - 1 ||
      !Array.isArray(proof[field])
    )
      return malformed(
        `proof ${i + 1} is not for record ${record.seq} (seq, leafIndex = seq - 1, ${field})`,
        record.seq,
      );
    const hashes = nodes
      ? pathHashes(proof.path as unknown[], nodes, used!, record.seq, malformed)
      : spelledHashes(proof.hashes as unknown[], record.seq, malformed);
    if (!hashes) return;
    if (record.seq > checkpoint.size)
      return report(
        'RECORD_BEYOND_CHECKPOINT',
        `record ${record.seq} is beyond the checkpoint's ${checkpoint.size} records`,
        record.seq,
      );
    claims.push({ leaf: leafHash(record.canonical), index: record.seq - 1, proof: hashes, seq: record.seq });
  });
  const unused = used ? used.indexOf(0) : -1;
  if (unused >= 0) report('PROOFS_MALFORMED', `node ${unused} is on no record's path`);
  verifyInclusions(claims, checkpoint.size, checkpoint.root).forEach((included, i) => {
    if (!included)
      report(
        'INCLUSION_PROOF_INVALID',
        `the inclusion proof does not lead from the record's leaf hash to the checkpoint's root at size ${checkpoint.size}`,
        claims[i]!.seq,
      );
  });
}

/** Format 2's `nodes`: each the standard base64 of 32 bytes, decoded once for every path that names it. */
function sharedNodes(value: unknown, report: Report): Buffer[] | null {
  if (!Array.isArray(value)) {
    report('PROOFS_MALFORMED', 'nodes is not an array');
    return null;
  }
  const nodes: Buffer[] = [];
  for (let i = 0; i < value.length; i++) {
    const node = typeof value[i] === 'string' ? decodeBase64Strict(value[i] as string) : null;
    if (!node || node.length !== 32) {
      report('PROOFS_MALFORMED', `node ${i} is not standard base64 of 32 bytes`);
      return null;
    }
    nodes.push(node);
  }
  return nodes;
}

function pathHashes(
  path: unknown[],
  nodes: Buffer[],
  used: Uint8Array,
  seq: number,
  malformed: ProofReport,
): Buffer[] | null {
  const hashes: Buffer[] = [];
  for (const place of path) {
    if (typeof place !== 'number' || !Number.isInteger(place) || place < 0 || place >= nodes.length) {
      malformed(
        `the path names ${JSON.stringify(place)}, which is not the place of a node (0 to ${nodes.length - 1})`,
        seq,
      );
      return null;
    }
    used[place] = 1;
    hashes.push(nodes[place]!);
  }
  return hashes;
}

function spelledHashes(spelled: unknown[], seq: number, malformed: ProofReport): Buffer[] | null {
  const hashes = spelled.map((h) => (typeof h === 'string' ? decodeBase64Strict(h) : null));
  if (hashes.some((h) => h === null || h.length !== 32)) {
    malformed('a proof hash is not standard base64 of 32 bytes', seq);
    return null;
  }
  return hashes as Buffer[];
}
