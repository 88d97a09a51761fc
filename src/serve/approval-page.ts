import type { OperationState } from '../model/operation.js';
import type { Html } from './html.js';
import { html } from './html.js';
import { page, when } from './page-layout.js';
import type { Login } from './sso-session.js';

/** What became of a decision sent from the page: the workflow's answer, refusal included. */
export interface DecisionOutcome {
  decision: 'approve' | 'reject';
  accepted: boolean;
  message: string;
}

export interface ApprovalPageInput {
  state: OperationState;
  login: Login;
  csrf: string;
  outcome?: DecisionOutcome;
}

const json = (value: unknown) => JSON.stringify(value ?? null, null, 2);

/**
 * Everything the approver is approving, taken from the operation's own state: who asked (and
 * whether that was proved), why, each target with what it is now and what it would become, the
 * risk and the rules behind it, the deadline and the digest the decision is bound to.
 */
export function approvalPage(input: ApprovalPageInput): string {
  const { state, login } = input;
  const envelope = state.envelope;
  const actor = envelope?.actor ?? state.request.actor;
  const decision = envelope?.policy;
  const awaiting = state.state === 'awaiting_approval';
  const body = html`<header>
      <p class="kicker">Writ · approval</p>
      <h1>Operation <code>${state.operationId}</code></h1>
      <p class="lead">${state.request.intent}</p>
    </header>
    ${input.outcome ? outcomeBox(input.outcome) : ''}
    <section>
      <h2>
        ${awaiting ? `Waiting for ${state.approvals.stillNeeded} more approval(s)` : `This operation is ${state.state}`}
      </h2>
      <dl class="facts">
        <dt>Requested by</dt>
        <dd>
          ${actor.id} (${actor.kind}) ·
          ${envelope?.actor.identity === 'verified' ? 'identity verified' : 'identity not verified'}
        </dd>
        <dt>Why</dt>
        <dd>${state.request.intent}</dd>
        <dt>Mode</dt>
        <dd>${state.request.mode}</dd>
        <dt>Risk</dt>
        <dd>${decision?.risk ?? 'not assessed yet'}</dd>
        <dt>Rules that matched</dt>
        <dd>${decision?.matchedRules.length ? decision.matchedRules.join(', ') : 'none'}</dd>
        <dt>Approvals</dt>
        <dd>
          ${state.approvals.granted.length} of ${state.approvals.required}
          ${state.approvals.granted.length ? html`(${state.approvals.granted.map((g) => g.approver).join(', ')})` : ''}
          ${state.approvals.approverGroups.length ? html`from ${state.approvals.approverGroups.join(', ')}` : ''}
        </dd>
        <dt>Deadline</dt>
        <dd>${state.approvals.deadline ? when(state.approvals.deadline) : 'none'}</dd>
        <dt>Approval digest</dt>
        <dd><code>${state.approvals.digest ?? 'none'}</code></dd>
        <dt>Signed in as</dt>
        <dd>${login.person} (since ${when(new Date(login.authTime * 1000).toISOString())})</dd>
      </dl>
    </section>
    <section>
      <h2>What changes</h2>
      ${state.steps.map(stepChange)}
    </section>
    ${awaiting && state.approvals.digest ? decisionForm(state, input.csrf) : ''}
    <footer>${signOut(login, input.csrf)}</footer>`;
  return page(`Approve ${state.operationId}`, body);
}

function stepChange(step: OperationState['steps'][number]): Html {
  const planned = step.planned;
  return html`<h3>Step ${step.index + 1}: ${step.action} <code>${step.connector}:${step.target}</code></h3>
    ${
      planned
        ? html`<p>${planned.summary}</p>
            <table>
              <tr>
                <th>Now</th>
                <th>After</th>
              </tr>
              <tr>
                <td><pre class="before">${json(planned.before)}</pre></td>
                <td><pre class="after">${json(planned.after)}</pre></td>
              </tr>
            </table>`
        : html`<p class="note">No preview of this step was made.</p>`
    }`;
}

function decisionForm(state: OperationState, csrf: string): Html {
  return html`<section>
    <h2>Your decision</h2>
    <form method="post" action="/approvals/${state.operationId}">
      <input type="hidden" name="csrf" value="${csrf}" />
      <input type="hidden" name="digest" value="${state.approvals.digest ?? ''}" />
      <p>
        <label for="reason">Reason</label><br />
        <textarea id="reason" name="reason" rows="3" cols="70" maxlength="2000" required></textarea>
      </p>
      <button type="submit" name="decision" value="approve">Approve</button>
      <button type="submit" name="decision" value="reject">Reject</button>
    </form>
  </section>`;
}

/** Ends the session here (the provider's own session is the provider's). */
function signOut(login: Login, csrf: string): Html {
  return html`<form method="post" action="/logout" class="signout">
    Signed in as ${login.person}. <input type="hidden" name="csrf" value="${csrf}" /><button type="submit">
      Sign out
    </button>
  </form>`;
}

function outcomeBox(outcome: DecisionOutcome): Html {
  const tone = outcome.accepted ? 'tone-good' : 'tone-bad';
  const label = outcome.accepted ? (outcome.decision === 'approve' ? 'Approved' : 'Rejected') : 'Refused';
  return html`<div class="verdict ${tone}" role="status">
    <span class="badge">${label}</span><span class="outcome">${outcome.message}</span>
  </div>`;
}

/** The inbox: every operation that waits for approvers, each with what it asks and until when. */
export function inboxPage(
  login: Login,
  csrf: string,
  operations: ReadonlyArray<OperationState | { operationId: string }>,
): string {
  const rows = operations.map((op) =>
    'state' in op
      ? html`<tr>
          <td><a href="/approvals/${op.operationId}">${op.operationId}</a></td>
          <td>${op.envelope?.actor.id ?? op.request.actor.id}</td>
          <td>${op.request.intent}</td>
          <td>${op.envelope?.policy.risk ?? ''}</td>
          <td>${op.approvals.deadline ? when(op.approvals.deadline) : ''}</td>
        </tr>`
      : html`<tr>
          <td><a href="/approvals/${op.operationId}">${op.operationId}</a></td>
          <td colspan="4" class="note">could not be read just now</td>
        </tr>`,
  );
  return page(
    'Approvals',
    html`<header>
        <p class="kicker">Writ · approvals</p>
        <h1>Waiting for approval</h1>
        <p class="lead">Signed in as ${login.person}.</p>
      </header>
      <section>
        ${
          operations.length
            ? html`<table class="inbox">
                <tr>
                  <th>Operation</th>
                  <th>Requested by</th>
                  <th>Why</th>
                  <th>Risk</th>
                  <th>Deadline</th>
                </tr>
                ${rows}
              </table>`
            : html`<p>Nothing waits for approval.</p>`
        }
      </section>
      <footer>${signOut(login, csrf)}</footer>`,
  );
}
