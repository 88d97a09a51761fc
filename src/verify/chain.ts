import { EventType } from '../model/events.js';
import { canonicalText } from './canonical.js';
import { GENESIS_HASH } from './hash.js';
import { LifecycleChecker } from './lifecycle-check.js';
import type { LifecycleFacts, LifecycleFinding } from './lifecycle-check.js';
import type { RecordMembers } from './canonical-check.js';
import { formatProblems, inspectRecord } from './record-check.js';
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
   * bytes. Either way the bytes are proven RFC 8785 canonical here, and the format fields and
   * lifecycle facts are read from them.
   */
  record?: unknown;
  copy?: { matches: boolean };
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
    const checked = this.check(row);
    if ('problem' in checked) {
      this.damage = { chainId: this.chainId, ...checked.problem };
      return this.damage;
    }
    this.expectedSeq = row.seq + 1;
    this.lastHash = Buffer.from(row.hash);
    this.count++;
    const facts = lifecycleFacts(row.seq, checked.members);
    if (this.onFacts) this.onFacts(facts);
    else this.lifecycle.push(facts);
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

  /** The row's first problem, or where its proven bytes hold the members read next. */
  private check(row: LedgerRow): { problem: Omit<Damage, 'chainId'> } | { members: RecordMembers } {
    const problem = this.placeProblem(row);
    if (problem) return { problem };
    // A broken link is named before a wrong hash: it says where the chain was cut, not only that a record changed.
    const { problems, members } = inspectRecord(row, { previousHash: this.lastHash, chainId: this.chainId });
    const first = problems.find((p) => p.code === 'CHAIN_LINK_BROKEN') ?? problems[0];
    if (first) return { problem: this.damageOf(row, first) };
    const copyProblem = this.checkCopy(row) ?? this.checkFormat(row, members);
    return copyProblem ? { problem: copyProblem } : { members };
  }

  /** Whether the row is of this chain and comes where the chain expects its next record. */
  private placeProblem(row: LedgerRow): Omit<Damage, 'chainId'> | null {
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
    return null;
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

  /** The jsonb copy must say what the proven bytes say. */
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
      return null;
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
    return null;
  }

  private checkFormat(row: LedgerRow, members: RecordMembers): Omit<Damage, 'chainId'> | null {
    const [problem] = formatProblems({ v: members.read('v'), chain: members.read('chain') }, this.chainId);
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

// Only reached once the row is proven: its bytes are canonical, and the copy says what they say.
function lifecycleFacts(seq: number, members: RecordMembers): LifecycleFacts {
  const type = members.read('type');
  return {
    seq,
    operationId: members.read('operationId'),
    type,
    state: members.read('state'),
    // Only a closing record's payload is ever read; the others can be large.
    payload: type === EventType.operationClosed ? members.read('payload') : undefined,
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
