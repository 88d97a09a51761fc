import { requesterLine } from './identity.js';
import type { OperationState } from '../../model/operation.js';

const VALUE_LIMIT = 2000;

function compact(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > VALUE_LIMIT ? `${text.slice(0, VALUE_LIMIT - 1)}…` : text;
}

/**
 * What an approver signs, spelled out: `writ approve --key` prints this and signs the digest on
 * its last line, and nothing else. Everything comes from one read of the workflow's `state`.
 */
export function describePlan(state: OperationState, kind: 'approve' | 'reject' | 'resolve'): string {
  const envelope = state.envelope;
  const policy = envelope?.policy;
  const verb = kind === 'approve' ? 'approving' : kind === 'reject' ? 'rejecting' : 'resolving';
  const lines = [
    `you are ${verb} operation ${state.operationId} (${state.state}):`,
    `  requester  ${requesterLine(state)}`,
    `  intent     ${envelope?.intent ?? state.request.intent}`,
    `  mode       ${envelope?.mode ?? state.request.mode}`,
  ];
  if (policy) {
    lines.push(`  risk       ${policy.risk}; policy ${policy.policyId} (revision ${policy.policyRevision})`);
    lines.push(`  rules      ${policy.matchedRules.length ? policy.matchedRules.join(', ') : 'none matched'}`);
    for (const reason of policy.reasons) lines.push(`             ${reason}`);
  }
  for (const step of state.steps) {
    const identity = envelope?.targets[step.index]?.identity;
    lines.push(
      `  step ${step.index + 1}     ${step.connector}.${step.action} ${step.target}${identity && identity !== step.target ? ` (${identity})` : ''}`,
    );
    const params = state.request.steps[step.index]?.params;
    if (params !== undefined) lines.push(`    params   ${compact(params)}`);
    if (step.planned) {
      lines.push(`    before   ${compact(step.planned.before)}`);
      lines.push(`    after    ${compact(step.planned.after)}`);
    } else {
      lines.push('    before/after: the connector gave no preview; check the target yourself');
    }
  }
  lines.push(`  deadline   ${state.approvals.deadline ?? 'none'}`);
  lines.push(`  digest     ${state.approvals.digest ?? '(none yet)'}`);
  return lines.join('\n');
}
