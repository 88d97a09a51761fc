import { describeDisagreement } from '../ledger/projection-check.js';
import type { ProjectionVerdict } from '../ledger/projection-check.js';
import { describeLifecycleFinding } from '../verify/lifecycle-check.js';
import type { ChainResult, LedgerReport } from './ledger-check.js';
import { isDamaged } from './ledger-check.js';

/**
 * The words `writ verify` and `writ demo` print for a ledger report. Users and docs quote these
 * lines, so they change only on purpose; tools read the codes in the report instead.
 */
export function describeChain({ verdict, audit, timestamps }: ChainResult): string {
  if (!verdict.ok) {
    const damage = verdict.damage!;
    return `chain ${verdict.chainId}: DAMAGED at record ${damage.seq}: ${damage.kind}: ${damage.detail} (${verdict.records} records before it verify)`;
  }
  const lines = [
    `chain ${verdict.chainId}: ${audit.damage.length || verdict.illegalPaths.length || timestamps.damage.length ? 'DAMAGED' : 'intact'}, ${verdict.records} records, head ${verdict.head?.seq ?? 0} ${verdict.head?.hash.toString('hex') ?? ''}`.trimEnd(),
  ];
  for (const finding of audit.damage)
    lines.push(`  ${finding.kind} at checkpoint ${finding.size} (${finding.source}): ${finding.detail}`);
  for (const finding of verdict.illegalPaths) lines.push(`  lifecycle: ${describeLifecycleFinding(finding)}`);
  if (audit.checked) {
    lines.push(
      `  checkpoints: ${audit.checked} checked${audit.signaturesChecked ? ', signatures verified' : ' (signatures not checked: set WRIT_VERIFIER_KEY)'}${audit.latest ? `; latest ${audit.latest.size} held by ${audit.latest.sources.join(', ')}` : ''}`,
    );
  } else {
    lines.push(
      '  checkpoints: none (a cut-off tail or a rewritten chain cannot be detected without them: run writ checkpoint)',
    );
  }
  for (const warning of audit.warnings) lines.push(`  warning: ${warning}`);
  lines.push(...describeTimestamps(timestamps));
  return lines.join('\n');
}

function describeTimestamps(timestamps: ChainResult['timestamps']): string[] {
  const unstamped = timestamps.unstamped.length
    ? [
        `  warning: ${timestamps.unstamped.length} checkpoint(s) have no time-stamp (${timestamps.unstamped.slice(0, 5).join(', ')}${timestamps.unstamped.length > 5 ? ', ...' : ''}): their time rests on the writer's clock`,
      ]
    : [];
  if (!timestamps.checked) return unstamped;
  return [
    ...unstamped,
    ...timestamps.damage.map((d) => `  time-stamp ${d.code} at checkpoint ${d.size}: ${d.detail}`),
    `  time-stamps: ${timestamps.checked} checked${timestamps.signaturesChecked ? ', signatures verified against the pinned TSA' : ' (signatures not checked: set WRIT_TSA_CERT)'}${timestamps.latest ? `; latest ${timestamps.latest.size} stamped ${timestamps.latest.genTime}` : ''}`,
  ];
}

export function describeProjection(projection: ProjectionVerdict): string {
  if (projection.ok)
    return `what-happened projection: agrees with the records for all ${projection.operations} operation(s)`;
  return [
    `what-happened projection: DISAGREES with the records (${projection.disagreements.length} field(s)):`,
    ...projection.disagreements.map((d) => `  ${describeDisagreement(d)}`),
  ].join('\n');
}

/** One phrase per problem, for the one-line reason `writ verify` exits with; empty when nothing is wrong. */
export function ledgerProblems(report: LedgerReport): string[] {
  const problems = report.chains
    .filter(isDamaged)
    .flatMap(({ verdict, audit, timestamps }) => [
      ...(verdict.damage ? [`chain ${verdict.chainId} at record ${verdict.damage.seq} (${verdict.damage.kind})`] : []),
      ...(!verdict.damage && audit.damage.length
        ? [
            `chain ${verdict.chainId}: ${audit.damage.map((d) => `${d.kind} at checkpoint ${d.size} (${d.source})`).join(', ')}`,
          ]
        : []),
      ...(!verdict.damage && timestamps.damage.length
        ? [
            `chain ${verdict.chainId}: ${timestamps.damage.map((d) => `time-stamp ${d.code} at checkpoint ${d.size}`).join(', ')}`,
          ]
        : []),
      ...verdict.illegalPaths.map(
        (f) =>
          `chain ${verdict.chainId}: operation ${f.operationId} closed at record ${f.seq} on an illegal path (${f.step})`,
      ),
    ]);
  const disagreeing = [...new Set((report.projection?.disagreements ?? []).map((d) => d.operationId))];
  if (disagreeing.length)
    problems.push(
      `the what-happened projection disagrees with the records for operation(s) ${disagreeing.slice(0, 5).join(', ')}${disagreeing.length > 5 ? ` and ${disagreeing.length - 5} more` : ''}`,
    );
  for (const finding of report.findings)
    if (finding.code.startsWith('SEALED_')) problems.push(`${finding.code}: ${finding.detail}`);
  return problems;
}

/** The JSON `writ verify --json` prints for one chain. */
export function chainJson({ verdict, audit, timestamps }: ChainResult) {
  return {
    checkpoints: audit,
    timestamps,
    chain: verdict.chainId,
    ok: verdict.ok,
    records: verdict.records,
    head: verdict.head ? { seq: verdict.head.seq, hash: verdict.head.hash.toString('hex') } : null,
    damage: verdict.damage,
    illegalPaths: verdict.illegalPaths,
  };
}
