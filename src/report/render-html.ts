import { Html, html } from '../serve/html.js';
import type { ComplianceReport } from './build.js';
import { DAY, bucketSize, buckets, chartSvg } from './chart.js';
import {
  completenessSection,
  controlsSection,
  exceptionsSection,
  populationSection,
  summarySection,
} from './html-sections.js';

const STYLE = `
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24; background: #f4f5f7; margin: 0; }
  main { max-width: 1200px; margin: 0 auto; padding: 20px; }
  section { background: #fff; border: 1px solid #d8dbe0; border-radius: 8px; padding: 16px 20px; margin: 0 0 16px; }
  .problem { border-left: 6px solid #b3261e; }
  .kicker { color: #5b6470; text-transform: uppercase; letter-spacing: .04em; font-size: 12px; margin: 0; }
  h1 { margin: 4px 0 12px; font-size: 24px; } h2 { margin: 0 0 10px; font-size: 19px; }
  dl.facts { display: grid; grid-template-columns: 140px 1fr; gap: 4px 12px; margin: 0; }
  dl.facts dt { color: #5b6470; }
  table { border-collapse: collapse; width: 100%; font-size: 14px; }
  th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid #e5e7eb; overflow-wrap: anywhere; }
  th { background: #f0f2f5; }
  .nowrap { white-space: nowrap; overflow-wrap: normal; }
  .muted { color: #5b6470; font-size: 12px; }
  .good { color: #1e6b34; } .bad { color: #b3261e; }
  code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
  pre { white-space: pre-wrap; background: #f6f8fa; padding: 8px; }
  .bar-changes { fill: #2458a6; } .bar-exceptions { fill: #c2410c; }
  .axis { font-size: 11px; fill: #5b6470; } .axis-line { stroke: #9aa1ab; }
  @media print { body { background: #fff; } section { break-inside: avoid; } }
`;
// A constant of this file, never data: wrapped by hand because escaping would turn its quotes into
// entities, which a <style> element does not decode.
const STYLESHEET = new Html(STYLE);

// No scripts and no fetches at all: record values are written by the people audited, and the page
// must read the same offline, attached to an audit file, as on the day it was made.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/** The page a compliance lead reads: summary, controls, chart, completeness, exceptions, population. */
export function renderHtml(report: ComplianceReport): string {
  const from = new Date(report.window.from);
  const to = new Date(report.window.to);
  const data = buckets(
    from,
    to,
    report.population.map((row) => row.requestedAt),
    report.exceptions.map((e) => e.at),
  );
  const withTime = bucketSize(from, to) < DAY;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="Content-Security-Policy" content="${CSP}" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${report.profile.title} · ${report.window.from} to ${report.window.to}</title>
        <style>
          ${STYLESHEET}
        </style>
      </head>
      <body>
        <main>
          ${summarySection(report)} ${controlsSection(report)}
          <section id="chart">
            <h2>Changes and exceptions over time</h2>
            ${chartSvg(data, withTime)}
          </section>
          ${completenessSection(report)} ${exceptionsSection(report)} ${populationSection(report)}
        </main>
      </body>
    </html>`.text;
}
