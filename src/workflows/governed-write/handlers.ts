import { describeIssues } from '../../model/issues.js';
import { setHandler } from '@temporalio/workflow';
import {
  approvalAttemptSchema,
  approveSignal,
  approveUpdate,
  assertValid,
  rejectSignal,
  rejectUpdate,
  rejectionAttemptSchema,
  resolveInputSchema,
  resolveSignal,
  resolveUpdate,
  stateQuery,
} from './messages.js';
import type { DecisionDesk } from './decisions.js';
import { RESOLVE_JUDGED_PATCH } from './decisions.js';
import type { OperationRun } from './operation.js';

/**
 * The query, updates and signals of one operation. Updates refuse malformed payloads before they
 * reach history; signals cannot answer, so every signalled attempt is judged and recorded.
 */
export function handleMessages(run: OperationRun, desk: DecisionDesk): void {
  setHandler(stateQuery, () => run.view());
  setHandler(approveUpdate, (attempt) => desk.decide('approve', attempt), {
    validator: (attempt) => assertValid(approvalAttemptSchema, attempt),
  });
  setHandler(rejectUpdate, (attempt) => desk.decide('reject', attempt), {
    validator: (attempt) => assertValid(rejectionAttemptSchema, attempt),
  });
  setHandler(resolveUpdate, (input) => desk.acceptResolution(input), {
    validator: (input) => assertValid(resolveInputSchema, input),
  });
  setHandler(approveSignal, async (attempt) => void (await desk.decide('approve', attempt)));
  setHandler(rejectSignal, async (attempt) => void (await desk.decide('reject', attempt)));
  setHandler(resolveSignal, async (input) => {
    const parsed = resolveInputSchema.safeParse(input);
    if (parsed.success) await desk.acceptResolution(input);
    else if (run.patches.has(RESOLVE_JUDGED_PATCH)) {
      const issues = describeIssues(parsed.error, { whole: '(payload)' });
      await desk.refuseMalformedResolution(input, `malformed resolution: ${issues}`);
    }
  });
}
