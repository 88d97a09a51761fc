import type { Html } from '../serve/html.js';
import { html } from '../serve/html.js';
import type { ComplianceReport } from './build.js';
import { completenessLines } from './completeness.js';
import type { WhatHappenedLink } from './links.js';
import { KIND_LABELS, exceptionCounts } from './summary.js';

/** A signed link when the report has one, else the command, shown as code to copy. */
function linkTo(link: WhatHappenedLink | null, text: string): Html {
  if (!link) return html`<span class="muted">${text}</span>`;
  if (link.url) return html`<a href="${link.url}" rel="noreferrer">${text}</a>`;
  return html`<code title="run this to see what happened">${link.command}</code>`;
}

export function summarySection(report: ComplianceReport): Html {
  const ok = report.completeness.ok;
  return html`<section class="${ok ? '' : 'problem'}" id="summary">
    <p class="kicker">Writ compliance report · ${report.profile.framework}</p>
    <h1>${report.profile.title}</h1>
    <dl class="facts">
      <dt>Window</dt>
      <dd>${report.window.from} to ${report.window.to} (operations whose first record falls in it)</dd>
      <dt>Changes</dt>
      <dd>${report.population.length} governed operation(s)</dd>
      <dt>Exceptions</dt>
      <dd>${report.exceptions.length}</dd>
      <dt>Completeness</dt>
      <dd class="${ok ? 'good' : 'bad'}">
        ${ok ? 'the ledger checks out: the population is complete' : 'BROKEN: the ledger check failed, completeness cannot be shown'}
      </dd>
      <dt>Generated</dt>
      <dd>${report.generatedAt}</dd>
    </dl>
  </section>`;
}

export function controlsSection(report: ComplianceReport): Html {
  const rows = report.profile.controls.map((control) => {
    const counts = exceptionCounts(report, control.exceptions);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    return html`<tr>
      <td class="nowrap"><strong>${control.id}</strong></td>
      <td>
        ${control.title}
        <div class="muted">${control.objective}</div>
      </td>
      <td>
        ${control.columns.join(', ')}${control.completeness ? html`<div class="muted">and the completeness statement</div>` : ''}
      </td>
      <td class="${total ? 'bad' : 'good'}">
        ${
          total
            ? [...counts].filter(([, n]) => n).map(([kind, n]) => html`<div>${KIND_LABELS[kind]}: ${n}</div>`)
            : 'none'
        }
      </td>
    </tr>`;
  });
  return html`<section id="controls">
    <h2>Controls</h2>
    <table>
      <thead>
        <tr>
          <th>Control</th>
          <th>What it asks</th>
          <th>Evidenced by</th>
          <th>Exceptions</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </section>`;
}

export function completenessSection(report: ComplianceReport): Html {
  const notes = report.completeness.chains.filter((c) => c.checkpoint);
  return html`<section id="completeness" class="${report.completeness.ok ? '' : 'problem'}">
    <h2>Completeness</h2>
    ${completenessLines(report.completeness).map((line) => html`<p>${line}</p>`)}
    ${notes.map(
      (c) =>
        html`<details>
          <summary>Checkpoint of chain ${c.chain} at ${c.checkpoint!.size}</summary>
          <pre>${c.checkpoint!.note}</pre>
        </details>`,
    )}
  </section>`;
}

export function exceptionsSection(report: ComplianceReport): Html {
  const rows = report.exceptions.map(
    (e) =>
      html`<tr>
        <td>
          ${KIND_LABELS[e.kind]}
          <div class="muted">${e.kind}</div>
        </td>
        <td>${e.operationId ?? html`<span class="muted">none</span>`}</td>
        <td>
          ${e.chain}/${e.seq}
          <div class="muted">${e.at}</div>
        </td>
        <td>${e.detail}</td>
        <td>${linkTo(e.whatHappened, 'what happened')}</td>
      </tr>`,
  );
  return html`<section id="exceptions">
    <h2>Exceptions</h2>
    ${
      rows.length
        ? html`<table>
            <thead>
              <tr>
                <th>Kind</th>
                <th>Operation</th>
                <th>Record</th>
                <th>What the record shows</th>
                <th>Evidence</th>
              </tr>
            </thead>
            <tbody>
              ${rows}
            </tbody>
          </table>`
        : html`<p>No exceptions in this window.</p>`
    }
  </section>`;
}

export function populationSection(report: ComplianceReport): Html {
  const rows = report.population.map(
    (row) =>
      html`<tr>
        <td><code>${row.id}</code></td>
        <td>${row.intent ?? ''}</td>
        <td>
          ${row.requester ?? ''}${row.requesterVerified ? '' : html`<div class="bad">identity not verified</div>`}
        </td>
        <td>${row.targets.map((t) => html`<div>${t}</div>`)}</td>
        <td>
          ${row.approvals.length ? row.approvals.map((a) => html`<div>${a.by} <span class="muted">${a.at}</span></div>`) : html`<span class="muted">none</span>`}
        </td>
        <td>${row.requestedAt}</td>
        <td>${row.executedAt ?? ''}</td>
        <td>${row.outcome}${row.exceptions.length ? html`<div class="bad">${row.exceptions.join(', ')}</div>` : ''}</td>
        <td>${linkTo(row.whatHappened, 'what happened')}</td>
      </tr>`,
  );
  return html`<section id="population">
    <h2>Population: every change in the window</h2>
    <table>
      <thead>
        <tr>
          <th>Operation</th>
          <th>Intent</th>
          <th>Requester</th>
          <th>Targets</th>
          <th>Approvals</th>
          <th>Requested</th>
          <th>Executed</th>
          <th>Outcome</th>
          <th>Evidence</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </section>`;
}
