import type { OperationState } from '../../model/operation.js';
import { approvalIdentityNote, requesterLine } from './identity.js';

/** `writ status` for a person: what, who, where it stands, what it waits for. */
export function describeState(state: OperationState): string {
  const lines: string[] = [];
  lines.push(`operation ${state.operationId}: ${state.state}${state.outcome ? ` (${state.outcome})` : ''}`);
  lines.push(`  requested by ${requesterLine(state)}: ${state.request.intent}`);
  lines.push(
    `  mode ${state.request.mode}${state.envelope ? `, risk ${state.envelope.policy.risk}, correlation ${state.envelope.correlationId}` : ''}`,
  );
  if (state.envelope)
    lines.push(`  policy ${state.envelope.policy.policyId}: ${state.envelope.policy.reasons.join('; ')}`);
  const approvals = state.approvals;
  if (approvals.required > 0) {
    lines.push(
      `  approvals: ${approvals.granted.length} of ${approvals.required}${approvals.approverGroups.length ? ` from ${approvals.approverGroups.join(', ')}` : ''}`,
    );
    if (state.state === 'awaiting_approval')
      lines.push(`    waiting until ${approvals.deadline}; digest ${approvals.digest}`);
    for (const g of approvals.granted)
      lines.push(`    granted by ${g.approver}${approvalIdentityNote(g)}: ${g.reason}`);
    for (const r of approvals.refused) lines.push(`    refused ${r.approver}: ${r.refusal}`);
  }
  lines.push('  steps:');
  for (const step of state.steps) {
    lines.push(
      `    ${step.index + 1}. ${step.connector}.${step.action} ${step.target}: ${step.status}${step.error ? ` (${step.error})` : ''}${step.verification && !step.verification.ok ? ` (${step.verification.reason})` : ''}`,
    );
  }
  lines.push(`  path: ${state.transitions.map((t) => t.to).join(' -> ')}`);
  if (state.state === 'needs_intervention')
    lines.push(
      `  needs a person: fix it by hand, then \`writ resolve ${state.operationId} --as <you> --action <what you did> --reason <why>\``,
    );
  if (state.resolution)
    lines.push(`  resolved by ${state.resolution.by}: ${state.resolution.action} (${state.resolution.reason})`);
  return lines.join('\n');
}
