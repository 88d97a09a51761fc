import { z } from 'zod';
import type { RecordDraft } from './record.js';
import { MANUAL_KEY_PREFIX } from './record.js';
import { recordedActorSchema } from '../model/request.js';
import { describeIssues } from '../model/issues.js';
import { MANUAL_TYPE_PREFIX, isManualType } from '../model/events.js';

/**
 * Events an operator records by hand: an out-of-band change, a note. They always land under
 * `manual.*`, so nobody can pass off a hand-written line as something a workflow did, and their
 * idempotency keys always under `manual/`, so a hand-written line can never take the key of a
 * record a workflow is about to write (whatever key the operator asks for).
 */
export const manualEventSchema = z.strictObject({
  type: z
    .string()
    .regex(
      /^(manual\.)?[a-z][a-z_]*$/,
      'type must be one lower-case word such as "note" or "change" (recorded as manual.<type>)',
    ),
  actor: z.union([z.string().min(1, 'actor must not be empty').max(256), recordedActorSchema]),
  message: z.string().min(1, 'message must not be empty').max(10_000),
  operationId: z.string().min(1).max(256).optional(),
  correlationId: z
    .string()
    .regex(/^[0-9a-f]{32}$/, 'correlationId must be 32 lower-case hex digits')
    .optional(),
  occurredAt: z.iso.datetime({ offset: false }).optional(),
  details: z.record(z.string(), z.json()).optional(),
  idempotencyKey: z.string().min(1).max(500).optional(),
});
export type ManualEvent = z.input<typeof manualEventSchema>;

export function manualEventToDraft(input: unknown): { ok: true; draft: RecordDraft } | { ok: false; problem: string } {
  const parsed = manualEventSchema.safeParse(input);
  if (!parsed.success) return { ok: false, problem: describeIssues(parsed.error, { whole: '(record)' }) };
  const event = parsed.data;
  const actor = typeof event.actor === 'string' ? { id: event.actor, kind: 'user' as const, groups: [] } : event.actor;
  return {
    ok: true,
    draft: {
      type: isManualType(event.type) ? event.type : `${MANUAL_TYPE_PREFIX}${event.type}`,
      actor,
      operationId: event.operationId ?? null,
      correlationId: event.correlationId ?? null,
      ...(event.occurredAt ? { occurredAt: event.occurredAt } : {}),
      ...(event.idempotencyKey ? { idempotencyKey: manualKey(event.idempotencyKey) } : {}),
      payload: { message: event.message, ...(event.details ? { details: event.details } : {}) },
    },
  };
}

/** The operator's key, filed in the manual key space. */
export function manualKey(key: string): string {
  return key.startsWith(MANUAL_KEY_PREFIX) ? key : `${MANUAL_KEY_PREFIX}${key}`;
}
