import { randomBytes, randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { SearchAttributePair, UpdateDefinition } from '@temporalio/common';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { canonicalBytes } from './verify/canonical.js';
import { summarise } from './model/envelope.js';
import type { OperationResult, OperationState, ResolveInput } from './model/operation.js';
import type { OperationRequest, OperationRequestInput, SubmittedRequest } from './model/request.js';
import { parseRequest, traceIdOf } from './model/request.js';
import { WRIT_SEARCH_ATTRIBUTES } from './model/search-attributes.js';
import { isTraceparent, newTraceparentFromHex, traceparentOrNew } from './model/trace-context.js';
import type { GovernedWriteSettings } from './workflows/governed-write/index.js';
import type { DecisionResponse } from './workflows/governed-write/messages.js';
import { approveUpdate, rejectUpdate, resolveUpdate, stateQuery } from './workflows/governed-write/messages.js';
import { DEFAULT_TASK_QUEUE } from './config/writ-config.js';
import { WritError } from './model/errors.js';
import type { IdentityProof } from './model/identity-proof.js';
import type { RequestIdentity } from './identity/request-proof.js';
import { RequestIdentityError, proveRequest } from './identity/request-proof.js';
import type { UntilReadyOptions } from './client/until-ready.js';
import { untilReady } from './client/until-ready.js';

export class InvalidRequestError extends WritError {
  override readonly name = 'InvalidRequestError';
  constructor(message: string) {
    super('INVALID_REQUEST', message);
  }
}

/** The operationId is taken by an operation that asked for something else. */
export class OperationConflictError extends WritError {
  override readonly name = 'OperationConflictError';
  constructor(message: string) {
    super('OPERATION_CONFLICT', message);
  }
}

/**
 * Fields of a request that must match for a resubmission to be the same operation. The proof is not
 * one of them: a retry fetches a fresh token, and who sent it is the worker's to judge.
 */
const IDENTITY_FIELDS = ['actor', 'intent', 'steps', 'mode', 'labels'] as const;

function differingFields(existing: Record<string, unknown>, submitted: Record<string, unknown>): string[] {
  return IDENTITY_FIELDS.filter(
    (field) => !canonicalBytes(existing[field] ?? null).equals(canonicalBytes(submitted[field] ?? null)),
  );
}

/** What the workflow list can filter on from the first moment; the workflow updates `state` as it goes. */
function searchAttributes(request: SubmittedRequest, correlationId: string): SearchAttributePair[] {
  return [
    { key: WRIT_SEARCH_ATTRIBUTES.state, value: 'planned' },
    { key: WRIT_SEARCH_ATTRIBUTES.correlationId, value: correlationId },
    { key: WRIT_SEARCH_ATTRIBUTES.actor, value: request.actor.id },
    { key: WRIT_SEARCH_ATTRIBUTES.connector, value: request.steps[0]!.connector },
    { key: WRIT_SEARCH_ATTRIBUTES.mode, value: request.mode },
  ];
}

function staticSummary(request: SubmittedRequest): string {
  return summarise({
    targets: request.steps.map((step, stepIndex) => ({
      stepIndex,
      connector: step.connector,
      action: step.action,
      target: step.target,
      identity: `${step.connector}:${step.target}`,
    })),
    actor: request.actor,
    intent: request.intent,
    mode: request.mode,
  });
}

/** The Web UI's details pane for the operation (Markdown). */
function staticDetails(request: SubmittedRequest, correlationId: string): string {
  return [
    `**Operation** ${request.operationId}`,
    `**Requested by** ${request.actor.id} (${request.actor.kind}${request.actor.groups.length ? `; ${request.actor.groups.join(', ')}` : ''})`,
    `**Why** ${request.intent}`,
    `**Mode** ${request.mode}`,
    `**Correlation** ${correlationId}`,
    `**Steps**\n${request.steps.map((s, i) => `${i + 1}. ${s.connector}.${s.action} ${s.target}`).join('\n')}`,
  ].join('\n\n');
}

export interface StartedOperation {
  operationId: string;
  correlationId: string;
  /** True when this operationId was already submitted: this is that operation, not a new one. */
  duplicate: boolean;
  handle: WorkflowHandle;
}

const randomTraceHex = () => randomBytes(24).toString('hex');

export function newTraceparent(): string {
  return newTraceparentFromHex(randomTraceHex());
}

/** An approval or a rejection as a caller sends it; `proof` says who decides (model/identity-proof.ts). */
export interface DecisionAttempt {
  approver: string;
  reason: string;
  digest?: string;
  signature?: string;
  proof?: IdentityProof;
}

/** An operation waiting for approvers, as Temporal's visibility lists it. */
export interface AwaitingOperation {
  operationId: string;
  startedAt: Date;
}

/** A typed client for governed writes over `@temporalio/client`. */
export class WritClient {
  private readonly taskQueue: string;

  /**
   * `traceparent` returns the caller's current W3C traceparent (from your tracing library);
   * requests without one of their own join that trace instead of starting a new one.
   */
  constructor(
    private readonly client: Client,
    options: {
      taskQueue?: string;
      settings?: GovernedWriteSettings;
      traceparent?: () => string | undefined;
      /** How long a decision is offered again while the operation's workflow task is failing. */
      notReadyPatienceMs?: number;
    } = {},
  ) {
    this.taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
    this.readiness = options.notReadyPatienceMs === undefined ? {} : { patienceMs: options.notReadyPatienceMs };
    this.settings = options.settings ?? {};
    this.currentTraceparent = options.traceparent ?? (() => undefined);
  }

  private readonly currentTraceparent: () => string | undefined;
  private readonly readiness: UntilReadyOptions;

  private ambientTraceparent(): string | undefined {
    const traceparent = this.currentTraceparent();
    if (traceparent === undefined) return undefined;
    if (!isTraceparent(traceparent))
      throw new InvalidRequestError(
        `request refused: the caller's current traceparent ${JSON.stringify(traceparent)} does not follow W3C Trace Context (00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>)`,
      );
    return traceparent;
  }

  private readonly settings: GovernedWriteSettings;

  /**
   * Validates the request (refusing it with every bad field named) and starts the operation.
   * `identity` proves who sends it (a key, a token or a token source, or a ready proof); policy
   * refuses unproved requests by default.
   */
  async start(input: OperationRequestInput, options: { identity?: RequestIdentity } = {}): Promise<StartedOperation> {
    const parsed = parseRequest(input);
    if (!parsed.ok) throw new InvalidRequestError(`request refused: ${parsed.problem}`);
    const fixed = { ...parsed.request, operationId: parsed.request.operationId ?? randomUUID() };
    const request: SubmittedRequest = {
      ...fixed,
      traceparent: traceparentOrNew(parsed.request.traceparent ?? this.ambientTraceparent(), randomTraceHex),
      ...(await this.identityOf(fixed, options.identity)),
    };
    const correlationId = traceIdOf(request.traceparent);
    try {
      const handle = await this.client.workflow.start('governedWrite', {
        taskQueue: this.taskQueue,
        workflowId: request.operationId,
        args: [request, this.settings],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: searchAttributes(request, correlationId),
        staticSummary: staticSummary(request),
        staticDetails: staticDetails(request, correlationId),
      });
      return { operationId: request.operationId, correlationId, duplicate: false, handle };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      return this.alreadyStarted(request, correlationId);
    }
  }

  /** The proof to send: the one the request carries, or the one `identity` makes for it (never both). */
  private async identityOf(
    request: OperationRequest & { operationId: string },
    identity: RequestIdentity | undefined,
  ): Promise<{ identity?: IdentityProof }> {
    if (!identity) return request.identity ? { identity: request.identity } : {};
    if (request.identity)
      throw new InvalidRequestError(
        'request refused: the request carries its own identity proof and start() was given another; send one',
      );
    try {
      // Signed after parsing and with the operationId fixed: the worker checks the bytes it parses.
      return { identity: await proveRequest(request, identity) };
    } catch (error) {
      if (error instanceof RequestIdentityError) throw new InvalidRequestError(`request refused: ${error.message}`);
      throw error;
    }
  }

  /** The operation an earlier submission started, unless it asked for something else. */
  private async alreadyStarted(request: SubmittedRequest, correlationId: string): Promise<StartedOperation> {
    const handle = this.client.workflow.getHandle(request.operationId);
    const existing = await handle.query(stateQuery).catch(() => null);
    // A retry must not quietly stand in for a different write: the caller would believe it happened.
    const differs = existing
      ? differingFields(
          existing.request as unknown as Record<string, unknown>,
          request as unknown as Record<string, unknown>,
        )
      : [];
    if (differs.length) {
      throw new OperationConflictError(
        `operation ${request.operationId} already exists and asked for something else (${differs.join(', ')} differ); use a new operationId for a new write`,
      );
    }
    return {
      operationId: request.operationId,
      correlationId: existing ? traceIdOf(existing.request.traceparent) : correlationId,
      duplicate: true,
      handle,
    };
  }

  handle(operationId: string): WorkflowHandle {
    return this.client.workflow.getHandle(operationId);
  }

  state(operationId: string): Promise<OperationState> {
    return this.handle(operationId).query(stateQuery);
  }

  result(operationId: string): Promise<OperationResult> {
    return this.handle(operationId).result() as Promise<OperationResult>;
  }

  /** Approves the version of the operation `digest` names (by default, the one it waits for now). */
  async approve(operationId: string, attempt: DecisionAttempt): Promise<DecisionResponse> {
    const digest =
      attempt.digest ??
      (await untilReady(`approve ${operationId}`, () => this.state(operationId), this.readiness)).approvals.digest ??
      '';
    return this.decide(operationId, 'approve', approveUpdate, { ...attempt, digest });
  }

  reject(operationId: string, attempt: DecisionAttempt): Promise<DecisionResponse> {
    return this.decide(operationId, 'reject', rejectUpdate, attempt);
  }

  resolve(operationId: string, input: ResolveInput): Promise<DecisionResponse> {
    return this.decide(operationId, 'resolve', resolveUpdate, input);
  }

  /** One update id for every attempt: however many reach the workflow, it takes the decision once. */
  private decide<A>(
    operationId: string,
    verb: string,
    update: UpdateDefinition<DecisionResponse, [A]>,
    arg: A,
  ): Promise<DecisionResponse> {
    const updateId = randomUUID();
    const handle = this.handle(operationId);
    return untilReady(
      `${verb} ${operationId}`,
      () => handle.executeUpdate(update, { args: [arg], updateId }),
      this.readiness,
    );
  }

  /**
   * Running operations of this task queue that wait for approval, newest first, from Temporal's
   * visibility (the WritState search attribute): seconds behind at most, so a page that lists them
   * reads each one's state before anyone decides on it.
   */
  async awaitingApproval(limit = 200): Promise<AwaitingOperation[]> {
    const query = `${WRIT_SEARCH_ATTRIBUTES.state.name} = 'awaiting_approval' AND ExecutionStatus = 'Running' AND TaskQueue = '${this.taskQueue.replace(/'/g, "''")}'`;
    const found: AwaitingOperation[] = [];
    for await (const execution of this.client.workflow.list({ query })) {
      found.push({ operationId: execution.workflowId, startedAt: execution.startTime });
      if (found.length >= limit) break;
    }
    return found.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
  }
}
