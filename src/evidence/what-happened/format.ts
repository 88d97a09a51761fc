import { NOT_VERIFIED } from '../../model/identity-proof.js';
import type { OperationSummary, PlannedTarget, StepOutcome, TimelineEvent, WhatHappened } from './types.js';
import { EventType } from '../../model/events.js';

// Written for someone who reads the outcome, not the code: a compliance lead asking who changed
// what, on whose say-so, and whether it stuck.
const VERDICTS: Record<string, string> = {
  succeeded: 'succeeded: every step was made and read back as written',
  dry_run: 'dry run: previewed only, nothing was changed',
  invalid: 'refused as invalid: nothing was changed',
  rejected: 'rejected by an approver: nothing was changed',
  expired: 'expired waiting for approval: nothing was changed',
  rolled_back: 'rolled back: a step failed, and every step made before it was undone',
  failed: 'failed: a step could not be made, and nothing before it needed undoing',
  resolved_manually: 'resolved by hand: a rollback failed and a person fixed it',
};

const STEP_STATUS: Record<string, string> = {
  [EventType.stepExecuting]: 'started, outcome not recorded yet',
  [EventType.stepExecuted]: 'made, not yet read back',
  [EventType.stepVerifying]: 'made, being read back',
  [EventType.stepVerified]: 'made and verified',
  [EventType.stepExecutionFailed]: 'failed',
  [EventType.stepVerificationFailed]: 'failed verification',
  [EventType.stepCompensating]: 'being rolled back',
  [EventType.stepCompensated]: 'rolled back',
  [EventType.stepCompensationFailed]: 'ROLLBACK FAILED',
};

export interface DescribeOptions {
  /** Print this timeline instead of the projection's latest events. */
  timeline?: TimelineEvent[];
}

/** The plain-text answer of `writ what-happened`. */
export function describeWhatHappened(result: WhatHappened, options: DescribeOptions = {}): string {
  const parts: string[] = [];
  if (result.matchedBy === 'correlation') {
    parts.push(`correlation ${result.id} covers ${result.operations.length} operation(s)`);
  }
  const several = result.operations.length > 1;
  for (const operation of result.operations) parts.push(describeOperation(operation, { recent: !options.timeline }));
  if (options.timeline)
    parts.push(describeTimeline(options.timeline, { operations: several || result.matchedBy === 'correlation' }));
  return parts.join('\n\n');
}

export function describeOperation(op: OperationSummary, options: { recent?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(
    `operation ${op.operationId}: ${op.open ? `open, ${op.state ?? 'no state yet'}` : `closed, ${op.outcome}`}`,
  );
  const actor = op.actor;
  lines.push(
    `  who asked:     ${actor ? `${actor.id} (${actor.kind}${actor.groups?.length ? `; groups ${actor.groups.join(', ')}` : ''}; ${actor.identity === 'verified' ? 'identity verified' : NOT_VERIFIED})` : 'unknown: no request was planned under this id'}`,
  );
  lines.push(`  why:           ${op.intent ?? '(no intent recorded: the request was refused before it was planned)'}`);
  lines.push(
    `  when:          ${when(op.startedAt)} to ${when(op.closedAt ?? op.lastEventAt)} (${duration(op.durationMs)}${op.open ? ' so far' : ''})`,
  );
  if (op.mode === 'dry-run') lines.push('  mode:          dry run (nothing is written)');
  if (op.policy.id || op.policy.risk) {
    const required = op.policy.approvalsRequired ?? 0;
    lines.push(
      `  policy:        ${op.policy.id ?? 'unknown'}, risk ${op.policy.risk ?? 'unknown'}, ${required ? `${required} approval(s) required` : 'no approval required'}`,
    );
  }
  lines.push(...whatChanged(op));
  lines.push(...approvals(op));
  lines.push(`  compensations: ${compensations(op)}`);
  lines.push(`  verdict:       ${verdict(op)}`);
  if (op.manualEvents) lines.push(`  notes:         ${op.manualEvents} event(s) recorded by hand (see --timeline)`);
  lines.push(
    `  evidence:      ${op.events} event(s), chain ${op.chainId} records ${op.firstSeq} to ${op.lastSeq}${op.correlationId ? `, correlation ${op.correlationId}` : ''}`,
  );
  if (options.recent !== false && op.recent.length) {
    lines.push(
      `  latest events${op.events > op.recent.length ? ` (the last ${op.recent.length} of ${op.events}; --timeline shows all)` : ''}:`,
    );
    lines.push(
      ...columns(op.recent.map((e) => [`#${e.seq}`, when(e.at), e.type, e.summary ?? ''])).map((line) => `    ${line}`),
    );
  }
  return lines.join('\n');
}

/** One row of "what changed": the plan's step joined with how far it got, in plain words. */
export interface ChangedStep {
  /** 1-based, as people count. */
  step: number;
  /** `<action> <target identity>`, or a note that the step was not in the plan. */
  what: string;
  status: string;
  /** What it changed (or had changed, once rolled back), and what went wrong. */
  detail: string;
}

export function changedSteps(op: OperationSummary): ChangedStep[] {
  const byIndex = new Map<number, StepOutcome>(op.steps.map((step) => [step.index, step]));
  const planned = new Map<number, PlannedTarget>(op.targets.map((target) => [target.stepIndex, target]));
  const indexes = [...new Set([...planned.keys(), ...byIndex.keys()])].sort((a, b) => a - b);
  const dryRun = op.mode === 'dry-run';
  return indexes.map((index) => {
    const target = planned.get(index);
    const step = byIndex.get(index);
    let status = step?.last ? (STEP_STATUS[step.last] ?? step.last) : 'not run';
    if (dryRun && step?.last === EventType.stepVerified) status = 'previewed';
    const detail = [
      step?.change ? (step.last === EventType.stepCompensated ? `had changed ${step.change}` : step.change) : '',
      step?.problem ?? '',
    ]
      .filter(Boolean)
      .join('; ');
    return {
      step: index + 1,
      what: target ? `${target.action} ${target.identity}` : '(step not in the plan)',
      status,
      detail,
    };
  });
}

function whatChanged(op: OperationSummary): string[] {
  const rows = changedSteps(op).map((row) => [
    `step ${row.step}`,
    row.what,
    row.detail ? `${row.status}: ${row.detail}` : row.status,
  ]);
  if (!rows.length) return ['  what changed:  nothing (no step was planned)'];
  return [
    `  ${op.mode === 'dry-run' ? 'what would change' : 'what changed'}:`,
    ...columns(rows).map((line) => `    ${line}`),
  ];
}

function approvals(op: OperationSummary): string[] {
  const { granted, refused, rejected, stale, trail } = op.approvals;
  const required = op.policy.approvalsRequired ?? 0;
  if (!required && !trail.length) return ['  approvals:     none required'];
  const counts = [
    `${granted} granted`,
    `${refused} refused`,
    ...(rejected ? [`${rejected} rejection(s)`] : []),
    ...(stale ? [`went stale ${stale} time(s)`] : []),
  ];
  return [
    `  approvals:     ${counts.join(', ')}`,
    ...trail.map((event) => `    ${when(event.at)}  ${event.summary ?? event.type}`),
  ];
}

export function compensations(op: OperationSummary): string {
  if (!op.compensations && !op.compensationFailures) return 'none';
  const parts = [];
  if (op.compensations) parts.push(`${op.compensations} step(s) rolled back`);
  if (op.compensationFailures) parts.push(`${op.compensationFailures} rollback(s) FAILED`);
  return parts.join(', ');
}

/** The outcome in one sentence for someone who reads the outcome, not the code. */
export function verdict(op: OperationSummary): string {
  if (!op.open) return VERDICTS[op.outcome ?? ''] ?? `closed as ${op.outcome}`;
  if (op.state === 'awaiting_approval') return 'still open: waiting for approval';
  if (op.state === 'needs_intervention')
    return `still open: a rollback failed and a person must fix it, then run \`writ resolve ${op.operationId}\``;
  return `still open: ${op.state ?? 'nothing recorded beyond the first event'} (last event ${op.lastEventType})`;
}

/** Every event, in ledger order, one per line. */
export function describeTimeline(events: TimelineEvent[], options: { operations?: boolean } = {}): string {
  if (!events.length) return 'timeline: no events';
  const chains = new Set(events.map((e) => e.chainId));
  const header = [
    ...(chains.size > 1 ? ['chain'] : []),
    'seq',
    'occurred at',
    ...(options.operations ? ['operation'] : []),
    'by',
    'event',
    'state',
    'what',
  ];
  const rows = events.map((e) => [
    ...(chains.size > 1 ? [e.chainId] : []),
    String(e.seq),
    when(e.occurredAt),
    ...(options.operations ? [e.operationId ?? '-'] : []),
    e.actor?.id ?? '-',
    e.type,
    e.state ?? '-',
    e.summary ?? '',
  ]);
  return [
    `timeline: ${events.length} event(s)${chains.size === 1 ? ` on chain ${events[0]!.chainId}` : ''}`,
    ...columns([header, ...rows]).map((line) => `  ${line}`),
  ].join('\n');
}

/** What `--json` prints: the summary, and the full records when the timeline was asked for. */
export function whatHappenedJson(result: WhatHappened | null, id: string, events?: TimelineEvent[]): object {
  return {
    id,
    matchedBy: result?.matchedBy ?? null,
    operations: result?.operations ?? [],
    ...(events ? { timeline: events } : {}),
  };
}

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/Z$/, ' UTC');
}

export function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** Columns padded to their widest cell; the last is left ragged because it carries prose. */
function columns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
