import type { ComplianceReport } from './build.js';
import { completenessLines } from './completeness.js';
import { exceptionCounts } from './summary.js';

/** What `writ report` prints when no format is asked for: the summary a person reads in a terminal. */
export function renderText(report: ComplianceReport): string {
  const lines = [
    `${report.profile.title} (${report.profile.framework})`,
    `window ${report.window.from} to ${report.window.to}: ${report.population.length} operation(s), ${report.exceptions.length} exception(s), ${report.otherRecords} other record(s)`,
    '',
    'controls:',
    ...report.profile.controls.map((control) => {
      const counts = exceptionCounts(report, control.exceptions);
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      return `  ${control.id} ${control.title}: ${
        total
          ? `${total} exception(s) (${[...counts]
              .filter(([, n]) => n)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ')})`
          : 'no exceptions'
      }`;
    }),
    '',
    'completeness:',
    ...completenessLines(report.completeness).map((line) => `  ${line}`),
  ];
  if (report.exceptions.length) {
    lines.push('', 'exceptions:');
    for (const e of report.exceptions)
      lines.push(
        `  ${e.kind} ${e.chain}/${e.seq}${e.operationId ? ` ${e.operationId}` : ''}: ${e.detail}${e.whatHappened ? ` [${e.whatHappened.url ?? e.whatHappened.command}]` : ''}`,
      );
  }
  return `${lines.join('\n')}\n`;
}
