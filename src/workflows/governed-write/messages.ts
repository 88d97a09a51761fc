import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { z } from 'zod';
import type { ApprovalAttempt, RejectionAttempt } from '../../model/approval.js';
import { describeIssues } from '../../model/issues.js';
import type { OperationState, ResolveInput } from '../../model/operation.js';

/** Signals, updates and the query of `governedWrite`, in one place (DESIGN.md section 3). */

export type { RejectionAttempt } from '../../model/approval.js';

export interface DecisionResponse {
  accepted: boolean;
  /** Why an attempt was refused; it is in the ledger too. */
  refusal?: string;
  state: string;
  stillNeeded: number;
}

// The payloads' schemas live with the judgement of them (model/approval.ts); validators use them here.
export { approvalAttemptSchema, rejectionAttemptSchema, resolveInputSchema } from '../../model/approval.js';

export const approveSignal = defineSignal<[ApprovalAttempt]>('approve');
export const rejectSignal = defineSignal<[RejectionAttempt]>('reject');
export const resolveSignal = defineSignal<[ResolveInput]>('resolve');
export const approveUpdate = defineUpdate<DecisionResponse, [ApprovalAttempt]>('approve');
export const rejectUpdate = defineUpdate<DecisionResponse, [RejectionAttempt]>('reject');
export const resolveUpdate = defineUpdate<DecisionResponse, [ResolveInput]>('resolve');
export const stateQuery = defineQuery<OperationState>('state');

/** Validators only stop malformed payloads; every well-formed attempt is judged and recorded. */
export function assertValid<T>(schema: z.ZodType<T>, value: unknown): void {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new Error(describeIssues(parsed.error, { whole: '(payload)' }));
  }
}
