import type { Html } from '../serve/html.js';
import { html } from '../serve/html.js';

export interface Bucket {
  start: Date;
  changes: number;
  exceptions: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
const MAX_BUCKETS = 40;
const STEPS = [MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR, 6 * HOUR, DAY, 7 * DAY, 30 * DAY];

/** The smallest round step that cuts the window into at most 40 bars: minutes for an hour, days for a quarter. */
export function bucketSize(from: Date, to: Date): number {
  const span = to.getTime() - from.getTime();
  return STEPS.find((step) => span / step <= MAX_BUCKETS) ?? Math.ceil(span / MAX_BUCKETS / DAY) * DAY;
}

export function buckets(from: Date, to: Date, changes: readonly string[], exceptions: readonly string[]): Bucket[] {
  const size = bucketSize(from, to);
  const count = Math.max(1, Math.ceil((to.getTime() - from.getTime()) / size));
  const out: Bucket[] = Array.from({ length: count }, (_, i) => ({
    start: new Date(from.getTime() + i * size),
    changes: 0,
    exceptions: 0,
  }));
  const at = (iso: string) => {
    const i = Math.floor((new Date(iso).getTime() - from.getTime()) / size);
    return out[Math.min(Math.max(i, 0), count - 1)]!;
  };
  for (const iso of changes) at(iso).changes++;
  for (const iso of exceptions) at(iso).exceptions++;
  return out;
}

const WIDTH = 800;
const HEIGHT = 220;
const PAD = { left: 36, right: 8, top: 12, bottom: 36 };

/**
 * Changes and exceptions per bucket as paired bars, drawn in inline SVG: the page works offline
 * and its Content-Security-Policy forbids every fetch. Text is only numbers and dates.
 */
export function chartSvg(data: readonly Bucket[], withTime: boolean): Html {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const max = Math.max(1, ...data.map((b) => Math.max(b.changes, b.exceptions)));
  const slot = plotW / data.length;
  const barW = Math.max(1, slot / 2 - 2);
  const y = (n: number) => PAD.top + plotH - (n / max) * plotH;
  const label = (d: Date) => (withTime ? d.toISOString().slice(11, 16) : d.toISOString().slice(5, 10));
  const every = Math.ceil(data.length / 10);
  const bars = data.map((b, i) => {
    const x = PAD.left + i * slot + 1;
    return html`<g>
      <title>${b.start.toISOString()}: ${b.changes} change(s), ${b.exceptions} exception(s)</title>
      <rect class="bar-changes" x="${x}" y="${y(b.changes)}" width="${barW}" height="${y(0) - y(b.changes)}" />
      <rect
        class="bar-exceptions"
        x="${x + barW + 1}"
        y="${y(b.exceptions)}"
        width="${barW}"
        height="${y(0) - y(b.exceptions)}"
      />
      ${i % every === 0 ? html`<text x="${x}" y="${HEIGHT - PAD.bottom + 16}" class="axis">${label(b.start)}</text>` : ''}
    </g>`;
  });
  return html`<svg
    role="img"
    aria-label="changes and exceptions over time"
    viewBox="0 0 ${WIDTH} ${HEIGHT}"
    width="100%"
    xmlns="http://www.w3.org/2000/svg"
  >
    <line x1="${PAD.left}" y1="${y(0)}" x2="${WIDTH - PAD.right}" y2="${y(0)}" class="axis-line" />
    <text x="2" y="${PAD.top + 10}" class="axis">${max}</text>
    <text x="2" y="${y(0)}" class="axis">0</text>
    ${bars}
    <rect x="${PAD.left}" y="${HEIGHT - 14}" width="10" height="10" class="bar-changes" />
    <text x="${PAD.left + 14}" y="${HEIGHT - 5}" class="axis">changes</text>
    <rect x="${PAD.left + 90}" y="${HEIGHT - 14}" width="10" height="10" class="bar-exceptions" />
    <text x="${PAD.left + 104}" y="${HEIGHT - 5}" class="axis">exceptions</text>
  </svg>`;
}
