/** A plain-text table: columns padded to their widest cell, the last column left to wrap. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ');
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function formatDuration(ms: number): string {
  if (ms % (24 * 3600 * 1000) === 0 && ms > 0) return `${ms / (24 * 3600 * 1000)}d`;
  if (ms % (3600 * 1000) === 0 && ms > 0) return `${ms / (3600 * 1000)}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  return `${ms}ms`;
}
