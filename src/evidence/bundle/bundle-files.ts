import type { Checkpoint } from '../../verify/checkpoint.js';
import type { NoteSigner } from '../../verify/note.js';
import { CHECKPOINT, KEY_PUB, RECORDS_CSV, RECORDS_JSONL, STATEMENTS } from '../../verify/bundle/format.js';
import { governanceFile } from '../../verify/bundle/governance.js';
import { recordsCsv } from './csv.js';
import { recordsJsonl } from './records-jsonl.js';
import type { BundleRecord } from './select.js';
import { dsseEnvelope, statementFor } from './statement.js';

/** Statements signed between turns: a few milliseconds of work. */
const STATEMENTS_A_TURN = 50;

/**
 * Every file of the bundle that needs neither the proofs nor the time stamps: the records, the CSV,
 * the checkpoint and its key, the governance the decisions name, and the signed statements, one an
 * operation. It gives the event loop a turn between pieces, so that the queries for the proofs,
 * built alongside, go out as soon as the one before answers.
 */
export async function bundleFiles(
  chain: string,
  records: BundleRecord[],
  operations: readonly string[],
  { note, checkpoint }: { note: string; checkpoint: Checkpoint },
  signer: NoteSigner & { verifierKey: string },
): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  files.set(RECORDS_JSONL, recordsJsonl(records));
  await turn();
  files.set(RECORDS_CSV, Buffer.from(recordsCsv(records), 'utf8'));
  await turn();
  files.set(CHECKPOINT, Buffer.from(note, 'utf8'));
  files.set(KEY_PUB, Buffer.from(`${signer.verifierKey}\n`, 'utf8'));
  for (const record of records) {
    const governance = governanceFile(record.record);
    if (governance) files.set(governance.name, governance.bytes);
  }
  const checkpointSummary = {
    origin: checkpoint.origin,
    size: checkpoint.size,
    root: checkpoint.root.toString('base64'),
  };
  // Grouped in one pass: filtering every record per operation is quadratic in a trace of many operations.
  const byOperation = new Map<string, BundleRecord[]>(operations.map((id) => [id, []]));
  for (const record of records) byOperation.get(record.record.operationId as string)?.push(record);
  // One line an operation, in the order the operations first appear in the records.
  const lines: string[] = [];
  for (const [operationId, own] of byOperation) {
    lines.push(`${JSON.stringify(dsseEnvelope(statementFor(operationId, chain, own, checkpointSummary), signer))}\n`);
    if (lines.length % STATEMENTS_A_TURN === 0) await turn();
  }
  files.set(STATEMENTS, Buffer.from(lines.join(''), 'utf8'));
  return files;
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
