import type { ZodType } from 'zod';
import type { RollbackContract } from '../model/contract.js';
import type { Effect } from '../model/policy.js';
import type { Json, JsonObject } from '../model/json.js';
import type {
  PlannedChange as Preview,
  StepSnapshot as Snapshot,
  VerifyResult as Verification,
} from '../model/operation.js';
import { WritError } from '../model/errors.js';

// What a connector hands back is what the workflow keeps of a step: one type each, under the names
// a connector author knows them by.
export type { Preview, Snapshot, Verification };

export interface Execution {
  after: Json;
  /** Whatever the outside system returned that an auditor may want (ids, status codes). */
  detail?: JsonObject;
}

export interface RollbackResult {
  restored: Json;
  detail?: JsonObject;
}

export interface ActionCall<P> {
  target: string;
  params: P;
}

/**
 * One action of a connector. Connectors know nothing of Temporal: activities adapt them.
 * `execute` and `rollback` must be idempotent under `idempotencyKey`: called twice with the same
 * key, they have one effect (a retried activity calls them again).
 */
export interface ConnectorAction<P = JsonObject> {
  params: ZodType<P>;
  contract: RollbackContract;
  /** A stable identity of what is written, e.g. `postgres://db/public.accounts/42`. */
  identity(call: ActionCall<P>): string;
  /**
   * The target as the outside system resolves it, in one canonical spelling: every spelling that
   * reaches the same thing must give the same answer (policy matches it, so a different spelling
   * must not dodge a rule). Absent: the target as given and `identity`.
   */
  resolve?(call: ActionCall<P>): Promise<ResolvedTarget>;
  /**
   * What the call does given the state before it, and the action of this connector that does
   * exactly that (an upsert of an existing row: modify, `update`). Absent: effect `unknown`.
   */
  effect?(call: ActionCall<P>, before: Snapshot): { effect: Effect; action: string };
  /** Problems with the call against the outside system as it is now (empty: fine). */
  validate(call: ActionCall<P>): Promise<string[]>;
  snapshot(call: ActionCall<P>): Promise<Snapshot>;
  preview(call: ActionCall<P>, before: Snapshot): Promise<Preview>;
  execute(call: ActionCall<P>, context: { idempotencyKey: string; before: Snapshot }): Promise<Execution>;
  /**
   * Reads the target back and checks that what `call.params` asked holds, as the target's own
   * types read it. `execution.after` (all the workflow kept of the step) is what the target
   * answered, never the reference: a target that stored something else answers with that too.
   */
  verify(
    call: ActionCall<P>,
    context: { before: Snapshot; execution: Pick<Execution, 'after'> },
  ): Promise<Verification>;
  rollback(
    call: ActionCall<P>,
    context: { idempotencyKey: string; before: Snapshot; execution: Pick<Execution, 'after'> },
  ): Promise<RollbackResult>;
}

/** A target in its canonical spelling (`public.accounts/42`) and its identity (`postgres:public.accounts/42`). */
export interface ResolvedTarget {
  target: string;
  identity: string;
}

export interface Connector {
  name: string;
  description: string;
  // Each action has its own params type; the registry checks params with the action's schema.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  actions: Record<string, ConnectorAction<any>>;
  close?(): Promise<void>;
}

/** A connector's refusal that no retry can fix (bad params, a target that does not exist). */
export class ConnectorInputError extends WritError {
  override readonly name = 'ConnectorInputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONNECTOR_INPUT', message, undefined, options);
  }
}
