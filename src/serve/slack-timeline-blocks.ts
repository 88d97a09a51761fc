import type { KnownBlock } from '@slack/web-api';
import type { OperationSummary, TimelineEvent } from '../evidence/what-happened/index.js';
import { changedSteps, compensations, duration, verdict } from '../evidence/what-happened/index.js';
import { ROLLBACK_TYPES, isApprovalTrailEvent } from '../model/events.js';
import { NOT_VERIFIED } from '../model/identity-proof.js';
import type { Evidence } from './evidence.js';
import { when } from './page-layout.js';
import { header, section, sections, slackEscape as esc } from './slack-blocks.js';
import { approverRelation, lifecycleStates, who, words } from './timeline-words.js';

/**
 * The whole timeline of an id as Slack blocks, before paging: each operation's story (who asked
 * and why, the lifecycle, what changed, approvals, rollbacks), then every recorded event with its
 * time, one block each. The same facts, worded the same way, as the timeline page.
 */
export function timelineBlocks(evidence: Evidence & { events: TimelineEvent[] }): KnownBlock[] {
  const operations = evidence.summary?.operations ?? [];
  const byCorrelation = evidence.summary?.matchedBy !== 'operation';
  const intro = !evidence.summary
    ? [section(`No operation carries this id; ${evidence.events.length} recorded event(s) carry it as correlation id.`)]
    : byCorrelation
      ? [section(`This correlation id ties together ${operations.length} operation(s).`)]
      : [];
  return [
    header(`${byCorrelation ? 'Correlation' : 'Operation'} ${evidence.id}`),
    ...intro,
    ...operations.flatMap((op) =>
      operationBlocks(
        op,
        evidence.events.filter((e) => e.operationId === op.operationId),
        operations.length > 1,
      ),
    ),
    header(`Every recorded event (${evidence.events.length})`),
    section('Straight from the tamper-evident ledger, in the order they were recorded. Times are UTC.'),
    ...evidence.events.map((e) => eventBlock(e, byCorrelation)),
  ];
}

function operationBlocks(op: OperationSummary, events: TimelineEvent[], heading: boolean): KnownBlock[] {
  const actor = op.actor;
  const required = op.policy.approvalsRequired ?? 0;
  const facts = [
    `*Outcome* ${esc(verdict(op))}`,
    `*Requested by* ${actor ? `${esc(actor.id)} (${esc(actor.kind)}${actor.groups.length ? `, groups ${esc(actor.groups.join(', '))}` : ''}; ${actor.identity === 'verified' ? 'identity verified' : NOT_VERIFIED})` : 'unknown: no request was planned under this id'}`,
    `*Why* ${esc(op.intent ?? '(no reason recorded: the request was refused before it was planned)')}`,
    `*When* ${when(op.startedAt)} to ${when(op.closedAt ?? op.lastEventAt)} (${duration(op.durationMs)}${op.open ? ' so far' : ''})`,
    `*Status* ${op.open ? `open: ${words(op.state ?? 'no state yet')}` : `closed: ${words(op.outcome ?? '')}`}${op.mode === 'dry-run' ? ' (dry run: nothing was written)' : ''}`,
    `*Policy* ${op.policy.id || op.policy.risk ? esc(`${op.policy.id ?? 'unknown policy'}, risk ${op.policy.risk ?? 'unknown'}, ${required ? `${required} approval(s) required` : 'no approval required'}`) : 'no policy decision recorded'}`,
    ...(op.correlationId ? [`*Correlation id* \`${esc(op.correlationId)}\``] : []),
  ];
  const states = lifecycleStates(events);
  return [
    ...(heading ? [header(`Operation ${op.operationId}`)] : []),
    ...sections('', facts),
    section(`*Lifecycle* ${states.length ? states.map(words).join(' → ') : 'no lifecycle state recorded'}`),
    ...sections(`*${op.mode === 'dry-run' ? 'What would change' : 'What changed'}*`, changes(op)),
    ...sections('*Approvals*', approvals(op, events)),
    ...sections('*Compensations (rollbacks)*', rollbacks(op, events)),
    { type: 'divider' },
  ];
}

function changes(op: OperationSummary): string[] {
  const rows = changedSteps(op);
  if (!rows.length) return ['Nothing: no step was planned.'];
  return rows.map(
    (row) => `${row.step}. \`${esc(row.what)}\`: ${esc(row.status)}${row.detail ? `, ${esc(row.detail)}` : ''}`,
  );
}

function approvals(op: OperationSummary, events: TimelineEvent[]): string[] {
  const { granted, refused, rejected, stale } = op.approvals;
  const required = op.policy.approvalsRequired ?? 0;
  const trail = events.filter((e) => isApprovalTrailEvent(e.type));
  if (!required && !trail.length) return ['None required by policy.'];
  const counts = [
    `${granted} granted`,
    `${refused} refused`,
    ...(rejected ? [`${rejected} rejection(s)`] : []),
    ...(stale ? [`went stale ${stale} time(s)`] : []),
  ];
  return [
    `${required} required; ${counts.join(', ')}.`,
    ...trail.map((e) => `• ${when(e.occurredAt)}  ${esc(e.summary ?? e.type)}${approverRelation(e, op.actor?.id)}`),
  ];
}

function rollbacks(op: OperationSummary, events: TimelineEvent[]): string[] {
  const undone = events.filter((e) => ROLLBACK_TYPES.has(e.type));
  if (!undone.length) return ['None: nothing had to be undone.'];
  return [`${compensations(op)}.`, ...undone.map((e) => `• ${when(e.occurredAt)}  ${esc(e.summary ?? e.type)}`)];
}

function eventBlock(e: TimelineEvent, withOperation: boolean): KnownBlock {
  return section(
    [
      `*#${e.seq}* · ${when(e.occurredAt)} · ${esc(who(e))}${withOperation && e.operationId ? ` · \`${esc(e.operationId)}\`` : ''}`,
      `${esc(e.summary ?? e.type)}  _${esc(e.type)}_${e.state ? ` · ${words(e.state)}` : ''}`,
    ].join('\n'),
  );
}
