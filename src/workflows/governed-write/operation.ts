import { NOT_VERIFIED } from '../../model/identity-proof.js';
import { allHandlersFinished, condition, setCurrentDetails } from '@temporalio/workflow';
import type { EventDraft } from '../../activities/ledger.js';
import type { RunPatches } from './run-patches.js';
import type { GrantedApproval } from '../../model/approval.js';
import { approvalsStillNeeded } from '../../model/approval.js';
import type { ValidatedEnvelope } from '../../model/envelope.js';
import type { EventOptions } from '../../model/events.js';
import { EventType, operationEventDraft } from '../../model/events.js';
import type { Outcome, State } from '../../model/lifecycle.js';
import { assertClosingOutcome, assertTransition } from '../../model/lifecycle.js';
import type { OperationResult, OperationState, ResolveInput, StepView, TransitionView } from '../../model/operation.js';
import type { SubmittedRequest } from '../../model/request.js';
import type { ShownRequest } from '../../model/operation.js';
import { WRIT_SEARCH_ATTRIBUTES } from '../../model/search-attributes.js';
import { isTraceparent, traceIdOf } from '../../model/trace-context.js';
import type { GovernedActivities } from './activities.js';
import { recordOrGoOn } from './refused-records.js';
import type { SearchAttributeUpdates } from './search-attribute-updates.js';

/** A phase that ended the operation hands back its result instead of going on. */
export interface Closed {
  closed: OperationResult;
}

/**
 * One operation's state as the workflow holds it: what the state query answers, what the Web UI
 * shows, and the fields every record it writes carries.
 */
export class OperationRun {
  state: State = 'planned';
  outcome: Outcome | null = null;
  envelope: ValidatedEnvelope | null = null;
  digest: string | null = null;
  deadline: string | null = null;
  granted: GrantedApproval[] = [];
  rejected: { approver: string; reason: string } | null = null;
  resolution: ResolveInput | null = null;
  /** The resolver's evidence, recorded with `operation.resolved`. */
  resolutionEvidence: Record<string, unknown> = {};
  readonly refused: OperationState['approvals']['refused'] = [];
  readonly transitions: TransitionView[] = [{ from: null, to: 'planned', at: new Date().toISOString() }];
  readonly steps: StepView[];
  readonly ref;

  constructor(
    readonly request: SubmittedRequest,
    readonly operationId: string,
    /** Which behaviour changes this run takes (run-patches.ts). */
    readonly patches: RunPatches,
    /** What Temporal's visibility is told, and when (search-attribute-updates.ts). */
    readonly searchAttributes: SearchAttributeUpdates,
    private readonly ledger: GovernedActivities['ledger'],
    private readonly scheduledLedger?: GovernedActivities['scheduledLedger'],
  ) {
    // Nothing is trusted before the plan activity has validated the request: a malformed one
    // (from a client other than WritClient) must reach it and be refused on the record, not crash here.
    this.steps =
      Array.isArray(request?.steps) && request.steps.length <= 50
        ? request.steps.map((step, index) => ({
            index,
            connector: step?.connector,
            action: step?.action,
            target: step?.target,
            status: 'pending' as const,
          }))
        : [];
    this.ref = {
      operationId,
      correlationId: isTraceparent(request?.traceparent) ? traceIdOf(request.traceparent) : '',
      traceparent: request?.traceparent,
      // The request's groups are a claim: records carry the directory's, which the plan looks up.
      actor:
        request?.actor && typeof request.actor === 'object'
          ? { ...request.actor, groups: [] as string[] }
          : request?.actor,
      // Set from the plan's result (the chain of the operation's first record); undefined until then.
      chain: undefined as string | undefined,
    };
  }

  /** A record of this operation; once planned, it names the requester as the envelope does. */
  event(type: EventType, to: State | null, options: EventOptions = {}): EventDraft {
    const draft = operationEventDraft(this.ref, type, to, options);
    return { ...draft, payload: draft.payload as EventDraft['payload'] };
  }

  record(type: EventType, to: State | null, options: EventOptions = {}): Promise<void> {
    return this.recordAll([this.event(type, to, options)]);
  }

  /** Records through a regular activity (see GovernedActivities.scheduledLedger for why). */
  recordScheduled(type: EventType, to: State | null, options: EventOptions = {}): Promise<void> {
    const ledger = this.scheduledLedger ?? this.ledger;
    return ledger.recordEvents([this.event(type, to, options)]);
  }

  /** Records in one append: all of them, or none. */
  recordAll(drafts: EventDraft[]): Promise<void> {
    return this.ledger.recordEvents(drafts);
  }

  /** The requester as the plan activity canonicalised it: never the raw id a caller sent. */
  requester(): string {
    return this.envelope?.actor.id ?? this.request.actor.id;
  }

  stillNeeded(): number {
    return this.envelope ? approvalsStillNeeded(this.envelope.policy, this.granted) : 0;
  }

  moveTo(to: State, note?: string): void {
    assertTransition(this.state, to);
    this.transitions.push({ from: this.state, to, at: new Date().toISOString(), ...(note ? { note } : {}) });
    this.state = to;
    // The client filed the actor the request named; once planned, the list shows who it really is.
    const actor = this.envelope ? [{ key: WRIT_SEARCH_ATTRIBUTES.actor, value: this.envelope.actor.id }] : [];
    this.searchAttributes.set([{ key: WRIT_SEARCH_ATTRIBUTES.state, value: to }, ...actor]);
    this.describe();
  }

  /**
   * `condition(done[, timeoutMs])` once visibility has been told where the run stands: the very
   * promise `condition` gives, so that runs recorded before keep their order of steps on replay.
   */
  waitFor(done: () => boolean): Promise<void>;
  waitFor(done: () => boolean, timeoutMs: number): Promise<boolean>;
  waitFor(done: () => boolean, timeoutMs?: number): Promise<void | boolean> {
    this.searchAttributes.upsertPending();
    return timeoutMs === undefined ? condition(done) : condition(done, timeoutMs);
  }

  /** Closes with `closing`, once attempts still being judged are recorded. */
  async close(closing: Outcome, payload: Record<string, unknown> = {}): Promise<OperationResult> {
    assertClosingOutcome(this.state, closing);
    this.moveTo('closed');
    this.outcome = closing;
    this.searchAttributes.set([{ key: WRIT_SEARCH_ATTRIBUTES.state, value: `closed:${closing}` }]);
    this.describe();
    await this.waitFor(allHandlersFinished);
    const path = this.transitions.map((t) => t.to);
    const closed = this.event(EventType.operationClosed, 'closed', { payload: { outcome: closing, path, ...payload } });
    await recordOrGoOn(this, [closed]);
    const {
      operationId,
      state,
      ref: { correlationId },
    } = this;
    return { operationId, outcome: closing, state, correlationId };
  }

  /** What the state query answers. */
  view(): OperationState {
    const { operationId, state, outcome, request, envelope, transitions, steps, resolution } = this;
    const { granted, digest, deadline, refused } = this;
    return {
      operationId,
      state,
      outcome,
      request: withProofKindOnly(request),
      envelope,
      transitions,
      steps,
      resolution,
      approvals: {
        required: envelope?.policy.approvalsRequired ?? 0,
        granted,
        stillNeeded: this.stillNeeded(),
        approverGroups: envelope?.policy.approverGroups ?? [],
        digest,
        deadline,
        refused,
      },
    };
  }

  /** The operation at a glance, in the Temporal Web UI. */
  describe(): void {
    const { envelope, state, outcome, deadline } = this;
    const lines = [`**State:** ${state}${outcome ? ` (${outcome})` : ''}`];
    if (envelope) {
      const verified = envelope.actor.identity === 'verified';
      lines.push(`**Requester:** ${envelope.actor.id}${verified ? ' (identity verified)' : ` (${NOT_VERIFIED})`}`);
    }
    const policy = envelope?.policy;
    if (policy) lines.push(`**Risk:** ${policy.risk}; policy ${policy.policyId}: ${policy.reasons.join('; ')}`);
    if (envelope?.policy.approvalsRequired) {
      const groups = envelope.policy.approverGroups;
      const from = groups.length ? ` from ${groups.join(', ')}` : '';
      const until = deadline && state === 'awaiting_approval' ? `, until ${deadline}` : '';
      const needed = `${this.stillNeeded()} still needed of ${envelope.policy.approvalsRequired}`;
      lines.push(`**Approvals:** ${needed}${from}${until}`);
    }
    const steps = this.steps.map((s) => `${s.index + 1}. ${s.action} ${s.target}: ${s.status}`);
    lines.push(`**Steps:** ${steps.join('; ')}`);
    lines.push(`**Path:** ${this.transitions.map((t) => t.to).join(' → ')}`);
    setCurrentDetails(lines.join('\n\n'));
  }
}

/**
 * The request as the state query shows it: a proof's material (a bearer token above all) stays in
 * the ledger, where it is checked, and out of every screen and script that reads the state.
 */
function withProofKindOnly(request: SubmittedRequest): ShownRequest {
  const { identity, ...rest } = request;
  return identity ? { ...rest, identity: { kind: identity.kind } } : rest;
}
