import type pg from 'pg';
import type { LedgerCheckOptions, LedgerFinding } from '../evidence/ledger-check.js';
import { isDamaged, verifyLedger } from '../evidence/ledger-check.js';
import { listCheckpoints } from '../evidence/store.js';
import type { ReportRecord } from './read.js';

/** What the report can say about one chain the window's records live in. */
export interface ChainCompleteness {
  chain: string;
  /** The lowest and highest seq of the window's records, and how many there are. */
  range: { first: number; last: number; records: number };
  /** Every record of the chain, 1 to head, checked: sequence, links, hashes, canonical bytes, stored copies. */
  verified: boolean;
  head: number;
  /** What is wrong with the chain or its checkpoints; empty when nothing is. */
  damage: string[];
  /** The newest checkpoint whose root the records reproduce, signed, with who holds it. */
  checkpoint: {
    size: number;
    note: string;
    signatureChecked: boolean;
    heldBy: string[];
  } | null;
  /** The window's records the checkpoint does not reach yet, and their operations. */
  uncovered: { records: number; operations: string[] };
}

export interface Completeness {
  ok: boolean;
  chains: ChainCompleteness[];
  /** Operations with records in the window that are not in the population (their first record is outside it). */
  straddling: string[];
}

/**
 * Checks the whole ledger as `writ verify` does (a record in the window is only as good as the links
 * back to the first record, and a checkpoint's root is recomputed from records 1..size), then says,
 * per chain, which records the window spans and which signed checkpoint covers them.
 */
export async function checkCompleteness(
  pool: pg.Pool,
  records: readonly ReportRecord[],
  straddling: string[],
  options: Omit<LedgerCheckOptions, 'projection' | 'deep'>,
): Promise<Completeness> {
  const ledger = await verifyLedger(pool, { ...options, projection: false });
  const chains: ChainCompleteness[] = [];
  for (const chain of [...new Set(records.map((r) => r.chain))].sort()) {
    const inChain = records.filter((r) => r.chain === chain);
    const result = ledger.chains.find((c) => c.verdict.chainId === chain);
    const findings = ledger.findings.filter((f) => f.chainId === chain);
    const latest = result?.audit.latest ?? null;
    const note = latest ? ((await listCheckpoints(pool, chain)).find((c) => c.size === latest.size)?.note ?? '') : '';
    const coveredUpTo = latest?.size ?? 0;
    const uncovered = inChain.filter((r) => r.seq > coveredUpTo);
    chains.push({
      chain,
      range: { first: inChain[0]!.seq, last: inChain.at(-1)!.seq, records: inChain.length },
      verified: result ? !isDamaged(result) : false,
      head: result?.verdict.head?.seq ?? 0,
      damage: result ? findings.map(describeFinding) : [`chain ${chain} was not found by the ledger check`],
      checkpoint: latest
        ? { size: latest.size, note, signatureChecked: result!.audit.signaturesChecked, heldBy: latest.sources }
        : null,
      uncovered: {
        records: uncovered.length,
        operations: [...new Set(uncovered.map((r) => r.operationId).filter((id): id is string => id !== null))],
      },
    });
  }
  return { ok: chains.every((c) => c.verified), chains, straddling };
}

function describeFinding(finding: LedgerFinding): string {
  const where =
    finding.seq !== undefined
      ? ` at record ${finding.seq}`
      : finding.size !== undefined
        ? ` at checkpoint ${finding.size}`
        : '';
  return `${finding.code}${where}: ${finding.detail}`;
}

/** The completeness statement, in the words every rendering uses. */
export function completenessLines(completeness: Completeness): string[] {
  const lines: string[] = [];
  for (const c of completeness.chains) {
    lines.push(
      c.verified
        ? `Chain ${c.chain}: the window's ${c.range.records} records lie between records ${c.range.first} and ${c.range.last}; every record from 1 to ${c.head} was checked (sequence with no gap, links, hashes, canonical bytes, stored copies) and is intact.`
        : `Chain ${c.chain}: BROKEN. The ledger check failed, so this report cannot show that the population is complete: ${c.damage.join('; ')}`,
    );
    if (c.checkpoint)
      lines.push(
        `Covered by the signed checkpoint of ${c.checkpoint.size} records (held by ${c.checkpoint.heldBy.join(', ')}; signature ${c.checkpoint.signatureChecked ? 'verified against the pinned key' : 'not checked: pin the key with --verifier-key or WRIT_VERIFIER_KEY'}), whose root the records reproduce.`,
      );
    else lines.push(`No signed checkpoint covers chain ${c.chain} yet: run writ checkpoint.`);
    if (c.uncovered.records)
      lines.push(
        `Not yet covered by a checkpoint: ${c.uncovered.records} record(s)${c.uncovered.operations.length ? `, operations ${c.uncovered.operations.join(', ')}` : ''}. Records after the newest checkpoint can still be cut off unnoticed.`,
      );
  }
  if (completeness.straddling.length)
    lines.push(
      `Not in the population: ${completeness.straddling.length} operation(s) with records in the window whose first record is outside it: ${completeness.straddling.join(', ')}.`,
    );
  return lines;
}
