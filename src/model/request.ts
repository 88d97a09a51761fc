import { z } from 'zod';
import { exceedsLimits } from './json-limits.js';
import { TRACEPARENT } from './trace-context.js';
import { OPERATION_ID } from './operation-id.js';
import { MAX_ID_LENGTH, canonicalId } from './identity.js';
import { describeIssues } from './issues.js';
import { identityProofSchema } from './identity-proof.js';

/** An id as given, within the limits of every id; `identitySchema` canonicalises on top of it. */
const givenIdSchema = (what: string) => z.string().min(1, `${what} must not be empty`).max(MAX_ID_LENGTH);

/**
 * A person's or service's id as it enters Writ: refused when it cannot be a canonical id, and
 * replaced by its canonical form (model/identity.ts), so every later comparison is of canonical ids.
 */
export const identitySchema = (what: string) =>
  givenIdSchema(what)
    .superRefine((value, ctx) => {
      if (!value.length || value.length > MAX_ID_LENGTH) return; // already reported by min/max
      const canonical = canonicalId(value);
      if (!canonical.ok) ctx.addIssue({ code: 'custom', message: `not a usable id: ${canonical.problem}` });
    })
    .overwrite((value) => {
      const canonical = canonicalId(value);
      return canonical.ok ? canonical.id : value;
    });

const actorWith = (id: z.ZodString) =>
  z.strictObject({
    id,
    kind: z.enum(['user', 'service']),
    groups: z.array(z.string().min(1).max(256)).max(64).default([]),
  });

/**
 * Who asks for a write: the id is canonicalised on entry, like every id that enters Writ. A request
 * cannot say its identity was verified: only the worker's check of its proof can.
 */
export const actorSchema = actorWith(identitySchema('actor.id'));

/**
 * An actor as a ledger record carries it: the id as the writer gave it. The ledger records what it
 * is handed (a workflow's actor is canonical already) and never rewrites it. `identity` says whether
 * a proof established who it is (`asserted`: identity not verified); records of Writ itself omit it.
 */
export const recordedActorSchema = actorWith(givenIdSchema('actor.id')).extend({
  identity: z.enum(['verified', 'asserted']).optional(),
});

export const stepSchema = z.strictObject({
  connector: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'connector must be a connector name such as "postgres"'),
  action: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'action must be an action name such as "update"'),
  target: z.string().min(1, 'target must name what is written to').max(1024),
  params: z.record(z.string(), z.json()).default({}),
});

/** What a caller asks for. Validated at the client and again in the workflow's first activity. */
export const operationRequestSchema = z.strictObject({
  operationId: z
    .string()
    .regex(OPERATION_ID, 'operationId must be 1-128 letters, digits, ".", "_", ":" or "-"')
    .optional(),
  actor: actorSchema,
  intent: z.string().trim().min(1, 'intent must say why this write is made').max(2000),
  steps: z.array(stepSchema).min(1, 'steps must hold at least one step').max(50),
  mode: z.enum(['execute', 'dry-run']).default('execute'),
  traceparent: z
    .string()
    .regex(
      TRACEPARENT,
      'traceparent must follow W3C Trace Context: 00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>',
    )
    .optional(),
  labels: z
    .record(z.string().regex(/^[a-z][a-z0-9_.-]{0,62}$/, 'label names are lower-case words'), z.string().max(256))
    .optional(),
  /** Proof of who sends the request (model/identity-proof.ts); without one, `actor` is only asserted. */
  identity: identityProofSchema.optional(),
});

export type OperationRequestInput = z.input<typeof operationRequestSchema>;
export type OperationRequest = z.output<typeof operationRequestSchema>;
export type Actor = z.output<typeof actorSchema> & { identity?: 'verified' | 'asserted' };
export type Step = z.output<typeof stepSchema>;
export type Mode = OperationRequest['mode'];

/** A request whose operationId and traceparent are fixed: what the workflow receives. */
export type SubmittedRequest = OperationRequest & { operationId: string; traceparent: string };

/**
 * Refuses a request past REQUEST_LIMITS before zod sees it, then validates it. Never throws on
 * input: whatever comes in, the answer is the request or a problem that says what was wrong.
 */
export function parseRequest(input: unknown): { ok: true; request: OperationRequest } | { ok: false; problem: string } {
  const tooLarge = exceedsLimits(input);
  if (tooLarge) return { ok: false, problem: tooLarge };
  try {
    const parsed = operationRequestSchema.safeParse(input);
    return parsed.success
      ? { ok: true, request: parsed.data }
      : { ok: false, problem: describeIssues(parsed.error, { whole: '(request)' }) };
  } catch (error) {
    return {
      ok: false,
      problem: `the request could not be read: ${String((error as Error)?.message ?? error).slice(0, 200)}`,
    };
  }
}

/** JSON Schema of the request, for callers that are not TypeScript (`writ schema`). */
export function requestJsonSchema(): unknown {
  return z.toJSONSchema(operationRequestSchema, { io: 'input' });
}

// Kept where it lives for its callers; defined in trace-context.ts, which the workflow imports without zod.
export { traceIdOf } from './trace-context.js';
