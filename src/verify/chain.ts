import { canonicalText } from './canonical.js';
import { GENESIS_HASH } from './hash.js';
import { LifecycleChecker } from './lifecycle-check.js';
import type { LifecycleFacts, LifecycleFinding } from './lifecycle-check.js';
import { checkRecord, formatProblems } from './record-check.js';
import type { RecordProblem } from './record-check.js';

/**
 * The chain verifier is pure and synchronous: it needs only the stored rows, in the order the
 * reader claims they were written, and trusts nothing else (not the database's sequence, not
 * the jsonb copy). Readers fetch; this decides.
 */
export interface LedgerRow {
  chainId: string;
  seq: number;
  /** The RFC 8785 bytes that were hashed. */
  canonical: Uint8Array;
  /**
   * The jsonb copy the database keeps for queries; it must say exactly what the bytes say.
   * Either the copy itself (compared here), or the database's own jsonb comparison of copy and
   * bytes, with the copy's format fields. Either way the bytes are proven RFC 8785 canonical here.
   */
  record?: unknown;
  copy?: { matches: boolean; v: unknown; chain: unknown; lifecycle?: Omit<LifecycleFacts, 'seq'> };
  prevHash: Uint8Array;
  hash: Uint8Array;
}

export type DamageKind =
  'out_of_order' | 'gap' | 'link_broken' | 'hash_mismatch' | 'payload_mismatch' | 'not_canonical' | 'unknown_format';

/** What tools and tests branch on; `kind` is the older, coarser name `writ verify` prints. */
export type DamageCode =
  | 'RECORD_OUT_OF_ORDER'
  | 'WRONG_CHAIN'
  | 'RECORD_MISSING'
  | 'CHAIN_LINK_BROKEN'
  | 'HASH_MISMATCH'
  | 'COPY_MISMATCH'
  | 'NOT_CANONICAL'
  | 'UNKNOWN_FORMAT';

export interface Damage {
  chainId: string;
  /** The first bad record's sequence number (for a gap: the first missing one). */
  seq: number;
  code: DamageCode;
  kind: DamageKind;
  detail: string;
}

export interface ChainHead {
  seq: number;
  hash: Buffer;
}

export interface ChainVerdict {
  chainId: string;
  ok: boolean;
  records: number;
  head: ChainHead | null;
  damage: Damage | null;
  /** Closed operations whose recorded path the lifecycle table does not allow (records before any damage). */
  illegalPaths: LifecycleFinding[];
}

export class ChainVerifier {
  private expectedSeq: number;
  private lastHash: Buffer;
  private count = 0;
  private damage: Damage | null = null;
  private readonly lifecycle = new LifecycleChecker();

  /**
   * `from` resumes after a head verified earlier (or a checkpoint), instead of from genesis.
   * `onFacts` takes each good record's lifecycle facts instead of the verifier's own lifecycle
   * check: a verifier of one range of a chain cannot judge a path that began in another range.
   */
  constructor(
    readonly chainId: string,
    from?: ChainHead,
    private readonly onFacts?: (facts: LifecycleFacts) => void,
  ) {
    this.expectedSeq = from ? from.seq + 1 : 1;
    this.lastHash = from ? from.hash : GENESIS_HASH;
  }

  /** Returns the damage found at this row, if any; after the first damage, further rows are ignored. */
  push(row: LedgerRow): Damage | null {
    if (this.damage) return this.damage;
    const problem = this.check(row);
    if (problem) {
      this.damage = { chainId: this.chainId, ...problem };
      return this.damage;
    }
    this.expectedSeq = row.seq + 1;
    this.lastHash = Buffer.from(row.hash);
    this.count++;
    if (this.onFacts) this.onFacts(lifecycleFacts(row));
    else this.lifecycle.push(lifecycleFacts(row));
    return null;
  }

  verdict(): ChainVerdict {
    return {
      chainId: this.chainId,
      ok: this.damage === null,
      records: this.count,
      head: this.expectedSeq > 1 ? { seq: this.expectedSeq - 1, hash: this.lastHash } : null,
      damage: this.damage,
      illegalPaths: this.lifecycle.findings,
    };
  }

  private check(row: LedgerRow): Omit<Damage, 'chainId'> | null {
    if (row.chainId !== this.chainId) {
      return {
        seq: row.seq,
        code: 'WRONG_CHAIN',
        kind: 'out_of_order',
        detail: `record of chain "${row.chainId}" found in chain "${this.chainId}"`,
      };
    }
    if (row.seq < this.expectedSeq) {
      return {
        seq: row.seq,
        code: 'RECORD_OUT_OF_ORDER',
        kind: 'out_of_order',
        detail: `record ${row.seq} came after record ${this.expectedSeq - 1}`,
      };
    }
    if (row.seq > this.expectedSeq) {
      const missing =
        row.seq - 1 === this.expectedSeq
          ? `record ${this.expectedSeq} is missing`
          : `records ${this.expectedSeq}..${row.seq - 1} are missing`;
      return {
        seq: this.expectedSeq,
        code: 'RECORD_MISSING',
        kind: 'gap',
        detail: `${missing} (record ${row.seq} follows record ${this.expectedSeq - 1})`,
      };
    }
    // A broken link is named before a wrong hash: it says where the chain was cut, not only that a record changed.
    const problems = checkRecord(row, { previousHash: this.lastHash, chainId: this.chainId });
    const first = problems.find((p) => p.code === 'CHAIN_LINK_BROKEN') ?? problems[0];
    if (first) return this.damageOf(row, first);
    return this.checkCopy(row);
  }

  private damageOf(row: LedgerRow, problem: RecordProblem): Omit<Damage, 'chainId'> {
    const seq = row.seq;
    switch (problem.code) {
      case 'CHAIN_LINK_BROKEN':
        return {
          seq,
          code: problem.code,
          kind: 'link_broken',
          detail: `prev_hash ${hex(row.prevHash)} does not match the hash of record ${seq - 1} (${hex(problem.expected)})`,
        };
      case 'HASH_MISMATCH':
        return {
          seq,
          code: problem.code,
          kind: 'hash_mismatch',
          detail: `stored hash ${hex(row.hash)} but SHA-256(prev_hash || canonical) is ${hex(problem.computed)}: the canonical bytes or the hash were changed`,
        };
      case 'NOT_CANONICAL':
        return {
          seq,
          code: problem.code,
          kind: 'not_canonical',
          detail: `the hashed bytes are not RFC 8785 canonical JSON: ${problem.problem}`,
        };
      case 'UNKNOWN_FORMAT':
        return {
          seq,
          code: problem.code,
          kind: 'unknown_format',
          detail: `record format version ${JSON.stringify(problem.version)} is not ${problem.expected}`,
        };
      case 'WRONG_CHAIN':
        return {
          seq,
          code: problem.code,
          kind: 'out_of_order',
          detail: `the hashed record belongs to chain ${JSON.stringify(problem.chain)}`,
        };
    }
  }

  /** The jsonb copy must say what the proven bytes say; then its format fields stand for the record's. */
  private checkCopy(row: LedgerRow): Omit<Damage, 'chainId'> | null {
    if (row.record === undefined) {
      if (!row.copy) throw new TypeError("a ledger row needs its stored record or the database's comparison of it");
      if (!row.copy.matches)
        return {
          seq: row.seq,
          code: 'COPY_MISMATCH',
          kind: 'payload_mismatch',
          detail: 'the stored record differs from the hashed bytes',
        };
      return this.checkFormat(row, row.copy);
    }
    const bytesText = Buffer.from(row.canonical).toString('utf8');
    let copyText: string;
    try {
      copyText = canonicalText(row.record);
    } catch (error) {
      return {
        seq: row.seq,
        code: 'COPY_MISMATCH',
        kind: 'payload_mismatch',
        detail: `the stored record cannot be canonicalised: ${(error as Error).message}`,
      };
    }
    if (copyText !== bytesText) {
      return {
        seq: row.seq,
        code: 'COPY_MISMATCH',
        kind: 'payload_mismatch',
        detail: `the stored record differs from the hashed bytes${firstDifference(JSON.parse(bytesText), row.record)}`,
      };
    }
    return this.checkFormat(row, row.record as { v?: unknown; chain?: unknown });
  }

  private checkFormat(row: LedgerRow, fields: { v?: unknown; chain?: unknown }): Omit<Damage, 'chainId'> | null {
    const [problem] = formatProblems(fields, this.chainId);
    return problem ? this.damageOf(row, problem) : null;
  }
}

/** Verifies a complete, ordered sequence of rows of one chain. */
export function verifyChain(chainId: string, rows: Iterable<LedgerRow>, from?: ChainHead): ChainVerdict {
  const verifier = new ChainVerifier(chainId, from);
  for (const row of rows) {
    if (verifier.push(row)) break;
  }
  return verifier.verdict();
}

// Only reached once the row is proven: its record, or the database's reading of the copy it proved
// equal to the bytes, or (for callers that give neither) the bytes themselves.
function lifecycleFacts(row: LedgerRow): LifecycleFacts {
  if (row.record === undefined && row.copy?.lifecycle) return { seq: row.seq, ...row.copy.lifecycle };
  const record = (row.record ?? JSON.parse(Buffer.from(row.canonical).toString('utf8'))) as Record<string, unknown>;
  return {
    seq: row.seq,
    operationId: record.operationId,
    type: record.type,
    state: record.state,
    payload: record.payload,
  };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function firstDifference(expected: unknown, actual: unknown, path = ''): string {
  if (expected === undefined || actual === undefined) return expected === actual ? '' : ` at ${path || '(root)'}`;
  if (typeof expected !== 'object' || expected === null || typeof actual !== 'object' || actual === null) {
    return canonicalText(expected) === canonicalText(actual) ? '' : ` at ${path || '(root)'}`;
  }
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const key of keys) {
    const inner = firstDifference(
      (expected as Record<string, unknown>)[key],
      (actual as Record<string, unknown>)[key],
      path ? `${path}.${key}` : key,
    );
    if (inner) return inner;
  }
  return '';
}
