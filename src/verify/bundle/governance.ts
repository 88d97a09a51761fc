import { canonicalBytes } from '../canonical.js';
import type { BundleFindingCode } from './findings.js';
import { sha256Hex } from '../hash.js';
import { DECISION_EVENT_TYPES, EventType, GovernanceType } from '../../model/events.js';

/**
 * The governance an operation ran under, in its bundle: the policy text and the directory of
 * people, each as the RFC 8785 bytes whose SHA-256 is the revision (version) that the operation's
 * `policy.decided` record names, beside the ledger records (`governance.policy`,
 * `governance.directory`) that put them on the record. docs/FORMAT.md section 10 is the contract.
 */
export type GovernanceKind = 'policy' | 'directory';

const FILE = /^governance\.(policy|directory)\.([0-9a-f]{64})\.json$/;

export function governanceFileName(kind: GovernanceKind, revision: string): string {
  return `governance.${kind}.${revision.replace(/^sha256:/, '')}.json`;
}

export function isGovernanceFileName(name: string): boolean {
  return FILE.test(name);
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};

/**
 * What a `policy.decided` record says it was decided under (both absent before governance was
 * recorded), or the directory version a decision record, or a request's proof, was checked against.
 */
export function governanceReferences(record: Json): { policy?: string; directory?: string } {
  if (typeof record.type === 'string' && DECISION_EVENT_TYPES.has(record.type)) {
    const version = obj(record.payload).directoryVersion;
    return typeof version === 'string' ? { directory: version } : {};
  }
  if (record.type === EventType.operationPlanned) {
    // The directory a request's proof of identity was checked against.
    const version = obj(record.payload).directoryVersion;
    return typeof version === 'string' ? { directory: version } : {};
  }
  if (record.type !== EventType.policyDecided) return {};
  const decision = obj(obj(record.payload).decision);
  return {
    ...(typeof decision.policyRevision === 'string' ? { policy: decision.policyRevision } : {}),
    ...(typeof decision.directoryVersion === 'string' ? { directory: decision.directoryVersion } : {}),
  };
}

/** The governance record's revision and content, or null when the record is not one. */
export function governanceContent(record: Json): { kind: GovernanceKind; revision: string; content: unknown } | null {
  const payload = obj(record.payload);
  if (record.type === GovernanceType.policy && typeof payload.revision === 'string')
    return { kind: 'policy', revision: payload.revision, content: payload.policy };
  if (record.type === GovernanceType.directory && typeof payload.version === 'string')
    return { kind: 'directory', revision: payload.version, content: payload.directory };
  return null;
}

/** The bundle file for a governance record: its content's canonical bytes. */
export function governanceFile(record: Json): { name: string; bytes: Buffer } | null {
  const found = governanceContent(record);
  if (!found || found.content === undefined) return null;
  return { name: governanceFileName(found.kind, found.revision), bytes: canonicalBytes(found.content) };
}

type Report = (file: string, code: BundleFindingCode, problem: string, seq?: number) => void;
type GovernanceRecords = ReadonlyArray<{ seq: number; record: Json | null }>;
interface Needed {
  kind: GovernanceKind;
  revision: string;
  seq: number;
}
interface Recorded {
  seq: number;
  content: unknown;
}

/**
 * Checks that every decision's governance is in the bundle and is what its hash says: the file's
 * SHA-256 is the revision, and the ledger record holds the same content. Problems are returned as
 * (file, problem, seq) findings; decisions made before governance was recorded only warn.
 */
export function checkGovernance(
  files: ReadonlyMap<string, Uint8Array>,
  records: GovernanceRecords,
  report: Report,
  warn: (message: string) => void,
): void {
  const onRecord = recordedGovernance(records);
  const needed = neededGovernance(records, warn);
  for (const [key, entry] of needed) checkGovernanceFile(entry, files, onRecord.get(key), report);
  for (const name of files.keys()) {
    const match = FILE.exec(name);
    if (match && !needed.has(`${match[1]}/sha256:${match[2]}`))
      report(name, 'GOVERNANCE_UNREFERENCED', 'no record of the bundle names this governance');
  }
}

/** The governance records of the bundle, by kind and revision. */
function recordedGovernance(records: GovernanceRecords): Map<string, Recorded> {
  const onRecord = new Map<string, Recorded>();
  for (const { seq, record } of records) {
    const found = record ? governanceContent(record) : null;
    if (found) onRecord.set(`${found.kind}/${found.revision}`, { seq, content: found.content });
  }
  return onRecord;
}

/** The governance the bundle must hold: what decisions name, then what governance records put on the record. */
function neededGovernance(records: GovernanceRecords, warn: (message: string) => void): Map<string, Needed> {
  const needed = new Map<string, Needed>();
  for (const { seq, record } of records) {
    if (!record) continue;
    const refs = governanceReferences(record);
    if (refs.policy !== undefined && refs.directory === undefined) {
      warn(
        `record ${seq} (policy.decided) was decided before governance was recorded: its policy text is not in the ledger`,
      );
      continue;
    }
    if (refs.policy !== undefined) needed.set(`policy/${refs.policy}`, { kind: 'policy', revision: refs.policy, seq });
    if (refs.directory !== undefined)
      needed.set(`directory/${refs.directory}`, { kind: 'directory', revision: refs.directory, seq });
  }
  // A governance record in the bundle must match its file too, whether or not a decision names it.
  for (const { seq, record } of records) {
    const found = record ? governanceContent(record) : null;
    if (found && !needed.has(`${found.kind}/${found.revision}`))
      needed.set(`${found.kind}/${found.revision}`, { kind: found.kind, revision: found.revision, seq });
  }
  return needed;
}

/** One governance file: present, hashing to its revision, and put on the record by a governance record. */
function checkGovernanceFile(
  { kind, revision, seq }: Needed,
  files: ReadonlyMap<string, Uint8Array>,
  recorded: Recorded | undefined,
  report: Report,
): void {
  const name = governanceFileName(kind, revision);
  if (!/^sha256:[0-9a-f]{64}$/.test(revision)) {
    report(
      name,
      'GOVERNANCE_REVISION_INVALID',
      `the ${kind} revision ${JSON.stringify(revision)} is not sha256:<64 hex digits>`,
      seq,
    );
    return;
  }
  const file = files.get(name);
  if (file === undefined) {
    report(
      name,
      'GOVERNANCE_MISSING',
      `missing: record ${seq} names ${kind} ${revision} but the bundle does not hold it`,
      seq,
    );
    return;
  }
  if (sha256Hex(file) !== revision.slice('sha256:'.length))
    report(
      name,
      'GOVERNANCE_DIGEST_MISMATCH',
      `its SHA-256 ${sha256Hex(file)} is not the ${kind} revision ${revision} the records name`,
      seq,
    );
  if (!recorded) {
    report(
      name,
      'GOVERNANCE_NOT_RECORDED',
      `no governance.${kind} record in the bundle puts ${revision} on the record`,
      seq,
    );
    return;
  }
  checkGovernanceContent(name, kind, file, recorded, seq, report);
}

/** The file's JSON is canonical and is the content its governance record holds. */
function checkGovernanceContent(
  name: string,
  kind: GovernanceKind,
  file: Uint8Array,
  recorded: Recorded,
  seq: number,
  report: Report,
): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(file).toString('utf8'));
  } catch {
    report(name, 'GOVERNANCE_MALFORMED', 'is not JSON', seq);
    return;
  }
  if (!canonicalBytes(parsed).equals(Buffer.from(file)))
    report(name, 'GOVERNANCE_NOT_CANONICAL', 'is not the RFC 8785 serialisation of its JSON', seq);
  if (recorded.content === undefined || !canonicalBytes(recorded.content).equals(canonicalBytes(parsed)))
    report(
      name,
      'GOVERNANCE_MISMATCH',
      `differs from what record ${recorded.seq} (governance.${kind}) holds`,
      recorded.seq,
    );
}
