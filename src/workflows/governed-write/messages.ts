import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { ApprovalAttempt, RejectionAttempt } from '../../model/approval.js';
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

export const approvalAttemptSchema = z.strictObject({
  approver: z.string().min(1, 'approver must name who approves').max(256),
  reason: z.string().trim().min(1, 'reason must say why').max(2000),
  digest: z.string().regex(/^[0-9a-f]{64}$/, 'digest must be the 64-hex approval digest shown by `writ status`'),
  signature: z.string().min(1).max(512).optional(),
});

// Ids are only checked for shape here: whether an id names anyone is judged, and recorded, by the workflow.
export const rejectionAttemptSchema = z.strictObject({
  approver: z.string().min(1, 'approver must name who rejects').max(256),
  reason: z.string().trim().min(1, 'reason must say why').max(2000),
  digest: z.string().regex(/^[0-9a-f]{64}$/, 'digest must be the 64-hex approval digest shown by `writ status`').optional(),
  signature: z.string().min(1).max(512).optional(),
});

export const resolveInputSchema = z.strictObject({
  by: z.string().min(1, 'by must name who resolved it').max(256),
  action: z.string().trim().min(1, 'action must say what was done').max(4000),
  reason: z.string().trim().min(1, 'reason must say why').max(2000),
  digest: z.string().regex(/^[0-9a-f]{64}$/, 'digest must be the 64-hex approval digest shown by `writ status`').optional(),
  signature: z.string().min(1).max(512).optional(),
});

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
    throw new Error(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(payload)'}: ${issue.message}`).join('; '));
  }
}
