import { Html, html } from './html.js';

// Inline and self-contained: the page is evidence that may be saved, printed or opened where
// nothing outside is reachable, and a page that fetches nothing leaks nothing (the server's
// Content-Security-Policy forbids any fetch anyway).
const STYLE = `
  :root { color-scheme: light; --ink: #1d2330; --muted: #5b6474; --line: #d9dee7; --paper: #ffffff; --wash: #f5f7fa; }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--wash); color: var(--ink); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
  main { max-width: 980px; margin: 0 auto; padding: 24px 20px 48px; }
  header h1 { margin: 0 0 8px; font-size: 26px; line-height: 1.25; overflow-wrap: anywhere; }
  .kicker { margin: 0 0 4px; color: var(--muted); font-size: 13px; letter-spacing: .06em; text-transform: uppercase; }
  .lead { margin: 0 0 16px; font-size: 17px; }
  section { background: var(--paper); border: 1px solid var(--line); border-radius: 10px; padding: 20px 22px; margin: 18px 0; }
  h2 { margin: 0 0 12px; font-size: 20px; overflow-wrap: anywhere; }
  h3 { margin: 22px 0 8px; font-size: 16px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
  code { font: 14px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: break-word; }
  h1 code, h2 code, dd code { overflow-wrap: anywhere; }
  .verdict { display: flex; gap: 14px; align-items: center; padding: 14px 16px; border-radius: 8px; border: 1px solid; font-size: 17px; }
  .badge { flex: none; font-weight: 700; padding: 4px 12px; border-radius: 999px; color: #fff; font-size: 15px; }
  .tone-good { background: #ecf8f0; border-color: #9fd8b4; } .tone-good .badge { background: #1f7a3e; }
  .tone-info { background: #ecf3fc; border-color: #a9c6ee; } .tone-info .badge { background: #2458a6; }
  .tone-neutral { background: #f1f2f5; border-color: #c7ccd6; } .tone-neutral .badge { background: #4a5263; }
  .tone-warn { background: #fdf5e6; border-color: #eccb83; } .tone-warn .badge { background: #95600a; }
  .tone-bad { background: #fcecec; border-color: #eba9a9; } .tone-bad .badge { background: #b3261e; }
  dl.facts { display: grid; grid-template-columns: 170px 1fr; gap: 6px 16px; margin: 18px 0 0; }
  dl.facts dt { color: var(--muted); font-weight: 600; }
  dl.facts dd { margin: 0; overflow-wrap: anywhere; }
  ol.lifecycle { display: flex; flex-wrap: wrap; gap: 6px 0; list-style: none; padding: 0; margin: 0; }
  ol.lifecycle li { display: flex; align-items: center; }
  ol.lifecycle li + li::before { content: "→"; color: var(--muted); margin: 0 6px; }
  ol.lifecycle span { background: var(--wash); border: 1px solid var(--line); border-radius: 6px; padding: 2px 10px; white-space: nowrap; }
  ol.lifecycle li.failure span { background: #fcecec; border-color: #eba9a9; color: #8c1d18; }
  table { width: 100%; border-collapse: collapse; font-size: 15px; }
  th, td { text-align: left; vertical-align: top; padding: 7px 10px; border-bottom: 1px solid var(--line); overflow-wrap: break-word; }
  th { white-space: nowrap; }
  th { background: var(--wash); font-weight: 600; }
  table.events td:first-child { color: var(--muted); white-space: nowrap; }
  table.events time, table.events td:last-child { white-space: nowrap; }
  .type { color: var(--muted); font-size: 12px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  ul.trail { margin: 6px 0 0; padding-left: 20px; }
  ul.trail li { margin: 3px 0; overflow-wrap: anywhere; }
  ul.trail time { color: var(--muted); margin-right: 6px; font-size: 14px; }
  li.failed { color: #b3261e; }
  .note { color: var(--muted); margin-top: -6px; }
  footer { color: var(--muted); font-size: 14px; padding: 4px 2px; }
  footer a { color: #2458a6; }
  .problem { border-left: 5px solid #b3261e; }
  @media print { body { background: #fff; } section { border: none; padding: 0; } footer a { color: inherit; } }
  @media (max-width: 640px) { dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: 8px; } }
`;
// A constant of this file, never data: wrapped by hand because escaping would turn its quotes into
// entities, which a <style> element does not decode.
const STYLESHEET = new Html(STYLE);

export function page(title: string, body: Html): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex, nofollow" />
        <title>${title} · Writ</title>
        <style>
          ${STYLESHEET}
        </style>
      </head>
      <body>
        <main>${body}</main>
      </body>
    </html> `.text;
}

/** A refusal or an error, said plainly, with the HTTP status in the title for whoever reports it. */
export function problemPage(status: number, title: string, message: string): string {
  return page(
    title,
    html` <section class="problem">
      <p class="kicker">Writ · ${status}</p>
      <h1>${title}</h1>
      <p>${message}</p>
    </section>`,
  );
}

/** ISO timestamps as people read them: `2026-03-12 09:15:00.000 UTC`. */
export function when(iso: string): string {
  return iso.replace('T', ' ').replace(/Z$/, ' UTC');
}
