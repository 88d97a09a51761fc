import type { Checkpoint } from '../checkpoint.js';
import { decodeBase64Strict } from '../base64.js';
import { leafHash, verifyInclusion } from '../merkle.js';
import type { ParsedRecord, Report } from './parse.js';
import { isObject, parseJson } from './parse.js';

/** proofs.json: one RFC 9162 inclusion proof per record, each leading to the checkpoint's root. */
export function checkProofs(
  data: Buffer,
  chain: string | null,
  checkpoint: Checkpoint | null,
  records: ParsedRecord[],
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
  if (chain !== null && value.chain !== chain)
    report('WRONG_CHAIN', `chain ${JSON.stringify(value.chain)} is not the bundle's chain ${chain}`);
  if (!checkpoint) return report('PROOFS_UNCHECKABLE', 'cannot be checked: there is no valid checkpoint');
  if (value.treeSize !== checkpoint.size)
    report('PROOFS_CHECKPOINT_MISMATCH', `treeSize ${value.treeSize} is not the checkpoint's size ${checkpoint.size}`);
  if (value.root !== checkpoint.root.toString('base64'))
    report('PROOFS_CHECKPOINT_MISMATCH', "root is not the checkpoint's root");
  const proofs = value.proofs as unknown[];
  if (proofs.length !== records.length)
    report('PROOFS_INCOMPLETE', `has ${proofs.length} proofs for ${records.length} records`);
  records.forEach((record, i) => {
    const proof = proofs[i];
    if (
      !isObject(proof) ||
      proof.seq !== record.seq ||
      proof.leafIndex !== record.seq - 1 ||
      !Array.isArray(proof.hashes)
    ) {
      return report(
        'PROOF_MALFORMED',
        `proof ${i + 1} is not for record ${record.seq} (seq, leafIndex = seq - 1, hashes)`,
        record.seq,
      );
    }
    const hashes = (proof.hashes as unknown[]).map((h) => (typeof h === 'string' ? decodeBase64Strict(h) : null));
    if (hashes.some((h) => h === null || h.length !== 32))
      return report('PROOF_MALFORMED', 'a proof hash is not standard base64 of 32 bytes', record.seq);
    if (record.seq > checkpoint.size)
      return report(
        'RECORD_BEYOND_CHECKPOINT',
        `record ${record.seq} is beyond the checkpoint's ${checkpoint.size} records`,
        record.seq,
      );
    if (
      !verifyInclusion(leafHash(record.canonical), record.seq - 1, checkpoint.size, hashes as Buffer[], checkpoint.root)
    ) {
      report(
        'INCLUSION_PROOF_INVALID',
        `the inclusion proof does not lead from the record's leaf hash to the checkpoint's root at size ${checkpoint.size}`,
        record.seq,
      );
    }
  });
}
