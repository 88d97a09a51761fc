import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes, unstorableJson } from '../verify/canonical.js';
import { LEDGER_KEY_PREFIX, MANUAL_KEY_PREFIX, WORKFLOW_KEY_PREFIX } from '../model/event-keys.js';
import type { Actor } from '../model/request.js';
import { recordedActorSchema } from '../model/request.js';
import { TRACEPARENT } from '../model/trace-context.js';
import { describeIssues } from '../model/issues.js';
import { WritError } from '../model/errors.js';
import { isManualType } from '../model/events.js';
import { RECORD_FORMAT_VERSION } from '../verify/record-format.js';
import { SEALED_MARKER, usesSealedMarker } from '../verify/sealed.js';

export { RECORD_FORMAT_VERSION };
export const DEFAULT_CHAIN = 'main';
/** What a chain id may be (the canonical record's `chain`, docs/FORMAT.md). */
export const CHAIN_ID = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

// One walk of the payload decides whether it is storable JSON: z.json() walked it a second time for
// what unstorableJson refuses anyway, and cost about a quarter of preparing a record (BENCHMARKS.md, P1).
const jsonObject = z
  .custom<Record<string, unknown>>(
    (value) => value !== null && typeof value === 'object' && !Array.isArray(value),
    'payload must be a JSON object',
  )
  .superRefine((value, ctx) => {
    const problem = unstorableJson(value, 'payload');
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
    else if (usesSealedMarker(value))
      ctx.addIssue({ code: 'custom', message: `"${SEALED_MARKER}" is reserved for sealed personal values` });
  });

export { LEDGER_KEY_PREFIX, MANUAL_KEY_PREFIX, WORKFLOW_KEY_PREFIX, workflowEventKey } from '../model/event-keys.js';

/** What a caller asks the ledger to record; the ledger fills in identity and format. */
const draftObjectSchema = z.strictObject({
  type: z
    .string()
    .regex(
      /^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/,
      'type must look like "operation.planned" (lower-case words joined by dots)',
    ),
  chain: z
    .string()
    .regex(CHAIN_ID, 'chain must be 1-64 lower-case letters, digits, "_", "." or "-"')
    .default(DEFAULT_CHAIN),
  idempotencyKey: z.string().min(1).max(512).optional(),
  operationId: z.string().min(1).max(256).nullable().default(null),
  correlationId: z
    .string()
    .regex(/^[0-9a-f]{32}$/, 'correlationId must be a W3C trace-id (32 lower-case hex digits)')
    .nullable()
    .default(null),
  traceparent: z
    .string()
    .regex(TRACEPARENT, 'traceparent must follow W3C Trace Context (00-<trace-id>-<parent-id>-<flags>)')
    .nullable()
    .default(null),
  stepIndex: z.number().int().min(0).nullable().default(null),
  state: z.string().min(1).max(64).nullable().default(null),
  actor: recordedActorSchema,
  occurredAt: z.iso.datetime({ offset: false }).optional(),
  workflow: z
    .strictObject({
      workflowId: z.string().min(1),
      runId: z.string().min(1),
      activityAttempt: z.number().int().min(1),
    })
    .nullable()
    .default(null),
  payload: jsonObject.default({}),
});

export const recordDraftSchema = draftObjectSchema.superRefine((draft, ctx) => {
  const key = draft.idempotencyKey;
  const manual = isManualType(draft.type);
  if (draft.workflow && key !== undefined && !key.startsWith(WORKFLOW_KEY_PREFIX)) {
    ctx.addIssue({
      code: 'custom',
      path: ['idempotencyKey'],
      message: `a record written by a workflow must use a key under "${WORKFLOW_KEY_PREFIX}"`,
    });
  }
  if (!draft.workflow && key?.startsWith(WORKFLOW_KEY_PREFIX)) {
    ctx.addIssue({
      code: 'custom',
      path: ['idempotencyKey'],
      message: `keys under "${WORKFLOW_KEY_PREFIX}" are reserved for records written by Writ's workflows`,
    });
  }
  if (manual && (draft.workflow || (key !== undefined && !key.startsWith(MANUAL_KEY_PREFIX)))) {
    ctx.addIssue({
      code: 'custom',
      path: ['idempotencyKey'],
      message: `a manual.* event is written by hand, never by a workflow, under a key in "${MANUAL_KEY_PREFIX}"`,
    });
  }
  if (!manual && key?.startsWith(MANUAL_KEY_PREFIX)) {
    ctx.addIssue({
      code: 'custom',
      path: ['idempotencyKey'],
      message: `keys under "${MANUAL_KEY_PREFIX}" are for manual.* events`,
    });
  }
  // The ledger's own records (a refusal's conflict) are filed under keys a writer can guess; a
  // writer going through Writ does not get to take them first.
  if (draft.type.startsWith('ledger.') !== (key?.startsWith(LEDGER_KEY_PREFIX) ?? false)) {
    ctx.addIssue({
      code: 'custom',
      path: ['idempotencyKey'],
      message: `keys under "${LEDGER_KEY_PREFIX}" are for the ledger's own ledger.* records, which use no other`,
    });
  }
});
export type RecordDraft = z.input<typeof recordDraftSchema>;

/** The exact object whose RFC 8785 bytes are hashed (docs/FORMAT.md, "Canonical record"). */
export interface CanonicalRecord {
  v: typeof RECORD_FORMAT_VERSION;
  chain: string;
  eventId: string;
  idempotencyKey: string;
  type: string;
  operationId: string | null;
  correlationId: string | null;
  traceparent: string | null;
  stepIndex: number | null;
  state: string | null;
  actor: Actor;
  occurredAt: string;
  workflow: { workflowId: string; runId: string; activityAttempt: number } | null;
  payload: Record<string, unknown>;
}

export interface PreparedRecord {
  record: CanonicalRecord;
  canonical: Buffer;
  /** Personal values taken out of the record (docs/FORMAT.md section 16), stored with it or not at all. */
  sealed?: SealedRecordValues;
}

/** One value of a record kept outside the ledger, so it can be erased while the record stays. */
export interface SealedRow {
  pointer: string;
  subject: string;
  salt: string;
  value: unknown;
  commitment: string;
}

export interface SealedRecordValues {
  rows: SealedRow[];
  /** The record as its writer gave it, before sealing. */
  open: CanonicalRecord;
  /** The record sealed again with the salts an earlier write of the same event used. */
  reseal(salts: ReadonlyMap<string, string>): PreparedRecord;
}

/**
 * Validates a draft and computes its canonical bytes once. Throws a plain Error naming the bad
 * fields; `prepareRecordSafe` returns the problem instead for batch validation.
 */
export function prepareRecord(draft: unknown, now: () => Date = () => new Date()): PreparedRecord {
  const result = prepareRecordSafe(draft, now);
  if (!result.ok) throw new InvalidRecordError(result.problem);
  return result.prepared;
}

export class InvalidRecordError extends WritError {
  override readonly name = 'InvalidRecordError';
  constructor(message: string) {
    super('INVALID_RECORD', message);
  }
}

export function prepareRecordSafe(
  draft: unknown,
  now: () => Date = () => new Date(),
): { ok: true; prepared: PreparedRecord } | { ok: false; problem: string } {
  let parsed;
  try {
    parsed = recordDraftSchema.safeParse(draft);
  } catch (error) {
    // zod recurses: a payload nested past the stack's depth is refused like any other bad draft.
    if (error instanceof RangeError) return { ok: false, problem: `payload: cannot be read (${error.message})` };
    throw error;
  }
  if (!parsed.success) return { ok: false, problem: describeIssues(parsed.error, { whole: '(record)' }) };
  const d = parsed.data;
  const eventId = randomUUID();
  const record: CanonicalRecord = {
    v: RECORD_FORMAT_VERSION,
    chain: d.chain,
    eventId,
    idempotencyKey: d.idempotencyKey ?? (isManualType(d.type) ? `${MANUAL_KEY_PREFIX}${eventId}` : `event:${eventId}`),
    type: d.type,
    operationId: d.operationId,
    correlationId: d.correlationId,
    traceparent: d.traceparent,
    stepIndex: d.stepIndex,
    state: d.state,
    actor: d.actor,
    occurredAt: d.occurredAt ?? now().toISOString(),
    workflow: d.workflow,
    payload: d.payload as Record<string, unknown>,
  };
  try {
    return { ok: true, prepared: { record, canonical: canonicalBytes(record) } };
  } catch (error) {
    if (error instanceof RangeError)
      return { ok: false, problem: `payload: cannot be canonicalised (${error.message})` };
    throw error;
  }
}

/**
 * What must be the same when two writes under one idempotency key are the same event: everything
 * but the record's own id, its clock, the activity attempt and the trace span that wrote it (those
 * differ between a first attempt and its retry). Names each member that differs.
 */
export function recordDifferences(existing: unknown, draft: CanonicalRecord): string[] {
  const earlier = (existing && typeof existing === 'object' ? existing : {}) as Record<string, unknown>;
  const same = (a: unknown, b: unknown) => {
    try {
      return canonicalBytes(a ?? null).equals(canonicalBytes(b ?? null));
    } catch {
      return false;
    }
  };
  const differences: string[] = (
    ['chain', 'type', 'operationId', 'correlationId', 'stepIndex', 'state', 'actor', 'payload'] as const
  ).filter((member) => !same(earlier[member], draft[member]));
  const workflow = (earlier.workflow && typeof earlier.workflow === 'object' ? earlier.workflow : null) as Record<
    string,
    unknown
  > | null;
  if (Boolean(workflow) !== Boolean(draft.workflow)) differences.push('workflow');
  else if (workflow && draft.workflow) {
    if (workflow.workflowId !== draft.workflow.workflowId) differences.push('workflow.workflowId');
    if (workflow.runId !== draft.workflow.runId) differences.push('workflow.runId');
  }
  return differences;
}
