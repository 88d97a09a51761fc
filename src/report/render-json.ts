import type { ComplianceReport } from './build.js';

/** The report for tools: every row, exception and completeness fact (docs/COMPLIANCE.md, "JSON"). */
export function renderJson(report: ComplianceReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
