import { NOT_VERIFIED } from '../model/identity-proof.js';
import type { OperationSummary, TimelineEvent } from '../evidence/what-happened/index.js';
import { changedSteps, compensations, duration, verdict } from '../evidence/what-happened/index.js';
import type { Evidence } from './evidence.js';
import type { Html } from './html.js';
import { html } from './html.js';
import { page, when } from './page-layout.js';
import { EventType, ROLLBACK_TYPES, VERIFICATION_TYPES, isApprovalTrailEvent } from '../model/events.js';
import { approverRelation, lifecycleStates, who, words } from './timeline-words.js';

export interface TimelinePageInput {
  evidence: Evidence & { events: TimelineEvent[] };
  requester: string;
  /** Unix seconds: the page's own link, and the download links it offers, end then. */
  expires: number;
  downloads: { csv: string; json: string };
  /** Where this view was recorded, so a reader can find it in the ledger. */
  recordedAs: { chain: string; seq: number };
}

// Headlines for someone deciding whether to worry; the sentence under each is format.ts's verdict.
const OUTCOMES: Record<string, { label: string; tone: Tone }> = {
  succeeded: { label: 'Succeeded', tone: 'good' },
  dry_run: { label: 'Dry run', tone: 'info' },
  invalid: { label: 'Refused as invalid', tone: 'neutral' },
  rejected: { label: 'Rejected', tone: 'neutral' },
  expired: { label: 'Expired', tone: 'neutral' },
  rolled_back: { label: 'Rolled back', tone: 'warn' },
  failed: { label: 'Failed', tone: 'bad' },
  resolved_manually: { label: 'Resolved by hand', tone: 'warn' },
};

type Tone = 'good' | 'info' | 'neutral' | 'warn' | 'bad';

const FAILURES = new Set([
  'validation_failed',
  'execution_failed',
  'verification_failed',
  'compensation_failed',
  'needs_intervention',
  'rejected',
  'expired',
]);

/** The page an auditor or a manager reads: the story of one id, then every record behind it. */
export function timelinePage(input: TimelinePageInput): string {
  const { evidence } = input;
  const operations = evidence.summary?.operations ?? [];
  const byCorrelation = evidence.summary?.matchedBy !== 'operation';
  const title = byCorrelation ? `Correlation ${evidence.id}` : `Operation ${evidence.id}`;
  const intro = !evidence.summary
    ? html`<p class="lead">
        No operation carries this id; ${evidence.events.length} recorded event(s) carry it as their correlation id.
      </p>`
    : byCorrelation
      ? html`<p class="lead">This correlation id ties together ${operations.length} operation(s).</p>`
      : html``;
  const body = html` <header>
      <p class="kicker">Writ · what happened</p>
      <h1>${title}</h1>
      ${intro}
    </header>
    ${operations.map((op) =>
      operationSection(
        op,
        evidence.events.filter((e) => e.operationId === op.operationId),
        operations.length > 1,
      ),
    )}
    <section>
      <h2>Every recorded event</h2>
      <p class="note">Straight from the tamper-evident ledger, in the order they were recorded. Times are UTC.</p>
      ${eventsTable(evidence.events, byCorrelation)}
    </section>
    <footer>
      <p>
        Download this evidence: <a href="${input.downloads.csv}" download>records (CSV)</a> ·
        <a href="${input.downloads.json}" download>full record (JSON)</a>. Each download is recorded in the ledger under
        your name.
      </p>
      <p>
        Shown to <strong>${input.requester}</strong> through a signed link valid until
        ${when(new Date(input.expires * 1000).toISOString())}. This view was recorded as ledger record
        ${input.recordedAs.seq} of chain ${input.recordedAs.chain}.
      </p>
      <p>
        To check the evidence independently, export a bundle with <code>writ export ${evidence.id}</code> and verify it
        with <code>writ verify-bundle</code>.
      </p>
    </footer>`;
  return page(title, body);
}

function operationSection(op: OperationSummary, events: TimelineEvent[], heading: boolean): Html {
  const outcome = op.open
    ? openOutcome(op)
    : (OUTCOMES[op.outcome ?? ''] ?? { label: `Closed: ${op.outcome}`, tone: 'neutral' as Tone });
  const actor = op.actor;
  const required = op.policy.approvalsRequired ?? 0;
  return html` <section class="operation">
    ${heading ? html`<h2>Operation <code>${op.operationId}</code></h2>` : ''}
    <div class="verdict tone-${outcome.tone}" role="status">
      <span class="badge">${outcome.label}</span>
      <span class="verdict-text">${verdict(op)}</span>
    </div>
    <dl class="facts">
      <dt>Requested by</dt>
      <dd>
        ${actor ? html`<strong>${actor.id}</strong> (${actor.kind}${actor.groups.length ? `, groups ${actor.groups.join(', ')}` : ''}; ${actor.identity === 'verified' ? 'identity verified' : NOT_VERIFIED})` : 'unknown: no request was planned under this id'}
      </dd>
      <dt>Why</dt>
      <dd>${op.intent ?? '(no reason recorded: the request was refused before it was planned)'}</dd>
      <dt>When</dt>
      <dd>
        ${when(op.startedAt)} to ${when(op.closedAt ?? op.lastEventAt)}
        (${duration(op.durationMs)}${op.open ? ' so far' : ''})
      </dd>
      <dt>Status</dt>
      <dd>
        ${op.open ? `open: ${words(op.state ?? 'no state yet')}` : `closed: ${words(op.outcome ?? '')}`}${op.mode === 'dry-run' ? ' (dry run: nothing was written)' : ''}
      </dd>
      <dt>Policy</dt>
      <dd>
        ${
          op.policy.id || op.policy.risk
            ? `${op.policy.id ?? 'unknown policy'}, risk ${op.policy.risk ?? 'unknown'}, ${required ? `${required} approval(s) required` : 'no approval required'}`
            : 'no policy decision recorded'
        }
      </dd>
      ${
        op.correlationId
          ? html`<dt>Correlation id</dt>
              <dd><code>${op.correlationId}</code></dd>`
          : ''
      }
    </dl>
    <h3>Lifecycle</h3>
    ${lifecycle(events)}
    <h3>${op.mode === 'dry-run' ? 'What would change' : 'What changed'}</h3>
    ${changes(op)}
    <h3>Approvals</h3>
    ${approvals(op, events)}
    <h3>Compensations (rollbacks)</h3>
    ${compensationList(op, events)}
    <h3>Verification</h3>
    ${verification(op, events)}
  </section>`;
}

function openOutcome(op: OperationSummary): { label: string; tone: Tone } {
  if (op.state === 'awaiting_approval') return { label: 'Waiting for approval', tone: 'info' };
  if (op.state === 'needs_intervention') return { label: 'Needs a person', tone: 'bad' };
  return { label: 'In progress', tone: 'info' };
}

/** The states the operation went through, in order, each once per visit. */
function lifecycle(events: TimelineEvent[]): Html {
  const states = lifecycleStates(events);
  if (!states.length) return html`<p>No lifecycle state recorded.</p>`;
  return html`<ol class="lifecycle">
    ${states.map((state) => html`<li class="${FAILURES.has(state) ? 'failure' : ''}"><span>${words(state)}</span></li>`)}
  </ol>`;
}

function changes(op: OperationSummary): Html {
  const rows = changedSteps(op);
  if (!rows.length) return html`<p>Nothing: no step was planned.</p>`;
  return html` <table>
    <thead>
      <tr>
        <th>Step</th>
        <th>Target</th>
        <th>Result</th>
        <th>Change</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (row) =>
          html`<tr>
            <td>${row.step}</td>
            <td><code>${row.what}</code></td>
            <td>${row.status}</td>
            <td>${row.detail || '-'}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function approvals(op: OperationSummary, events: TimelineEvent[]): Html {
  const { granted, refused, rejected, stale } = op.approvals;
  const required = op.policy.approvalsRequired ?? 0;
  const trail = events.filter((e) => isApprovalTrailEvent(e.type));
  if (!required && !trail.length) return html`<p>None required by policy.</p>`;
  const counts = [
    `${granted} granted`,
    `${refused} refused`,
    ...(rejected ? [`${rejected} rejection(s)`] : []),
    ...(stale ? [`went stale ${stale} time(s)`] : []),
  ];
  const requester = op.actor?.id;
  return html` <p>${required} required; ${counts.join(', ')}.</p>
    <ul class="trail">
      ${trail.map(
        (e) =>
          html`<li><time>${when(e.occurredAt)}</time> ${e.summary ?? e.type}${approverRelation(e, requester)}</li>`,
      )}
    </ul>`;
}

function compensationList(op: OperationSummary, events: TimelineEvent[]): Html {
  const rollbacks = events.filter((e) => ROLLBACK_TYPES.has(e.type));
  if (!rollbacks.length) return html`<p>None: nothing had to be undone.</p>`;
  return html` <p>${compensations(op)}.</p>
    <ul class="trail">
      ${rollbacks.map((e) => html`<li><time>${when(e.occurredAt)}</time> ${e.summary ?? e.type}</li>`)}
    </ul>`;
}

/** What each step's read-back found: the check that the change really is what was asked for. */
function verification(op: OperationSummary, events: TimelineEvent[]): Html {
  const checks = events.filter((e) => VERIFICATION_TYPES.has(e.type));
  return html` <p class="verdict-line">Verdict: <strong>${verdict(op)}</strong></p>
    ${
      checks.length
        ? html`<ul class="trail">
            ${checks.map((e) => html`<li class="${e.type === EventType.stepVerified ? 'ok' : 'failed'}"><time>${when(e.occurredAt)}</time> ${e.summary ?? e.type}</li>`)}
          </ul>`
        : html`<p>No step was read back${op.open ? ' yet' : ''}.</p>`
    }`;
}

function eventsTable(events: TimelineEvent[], withOperation: boolean): Html {
  const chains = new Set(events.map((e) => e.chainId)).size > 1;
  return html` <table class="events">
    <thead>
      <tr>
        <th>#</th>
        <th>When</th>
        ${withOperation ? html`<th>Operation</th>` : ''}
        <th>Who</th>
        <th>What happened</th>
        <th>State</th>
      </tr>
    </thead>
    <tbody>
      ${events.map(
        (e) =>
          html` <tr>
            <td title="record hash ${e.hash}">${chains ? `${e.chainId}/` : ''}${e.seq}</td>
            <td><time>${when(e.occurredAt)}</time></td>
            ${withOperation ? html`<td><code>${e.operationId ?? '-'}</code></td>` : ''}
            <td>${who(e)}</td>
            <td>
              ${e.summary ?? e.type}
              <div class="type">${e.type}</div>
            </td>
            <td>${e.state ? words(e.state) : ''}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
