import { closedPathProblem } from '../model/lifecycle.js';
import { EventType } from '../model/events.js';

/** What the lifecycle check needs of one record: a handful of fields, not the whole record. */
export interface LifecycleFacts {
  seq: number;
  operationId: unknown;
  type: unknown;
  state: unknown;
  /** Only read for `operation.closed` records. */
  payload?: unknown;
}

export interface LifecycleFinding {
  code: 'ILLEGAL_PATH';
  operationId: string;
  /** The `operation.closed` record (or the record after it) that is wrong. */
  seq: number;
  /** The illegal step, e.g. `executing -> closed`. */
  step: string;
  detail: string;
}

/**
 * Reads a chain's records in seq order and judges each operation's closing record against the
 * lifecycle table and the states its own records carried (see `closedPathProblem`). Pure, and per
 * operation: it keeps the states of operations still open (consecutive repeats collapsed) and,
 * once closed, only the operation's id, so an operation closed twice, or given a state after
 * it closed, is a finding too.
 */
export class LifecycleChecker {
  private readonly open = new Map<string, (string | null)[]>();
  private readonly closed = new Set<string>();
  readonly findings: LifecycleFinding[] = [];

  push(facts: LifecycleFacts): void {
    const { operationId, type, state } = facts;
    if (typeof operationId !== 'string' || operationId === '') return;
    const stateText = typeof state === 'string' ? state : null;
    if (this.closed.has(operationId)) {
      if (type === EventType.operationClosed)
        this.find(
          operationId,
          facts.seq,
          'closed -> closed',
          'the operation was already closed by an earlier operation.closed record',
        );
      else if (stateText !== null)
        this.find(
          operationId,
          facts.seq,
          `closed -> ${stateText}`,
          'a record gives the operation a state after it closed',
        );
      return;
    }
    const states = this.open.get(operationId) ?? [];
    if (type === EventType.operationClosed) {
      this.open.delete(operationId);
      this.closed.add(operationId);
      const payload =
        facts.payload !== null && typeof facts.payload === 'object' ? (facts.payload as Record<string, unknown>) : {};
      const problem =
        stateText !== 'closed'
          ? { step: `${stateText ?? 'null'}`, detail: "the operation.closed record's state is not closed" }
          : closedPathProblem(payload.path, payload.outcome, states);
      if (problem) this.find(operationId, facts.seq, problem.step, problem.detail);
      return;
    }
    if (stateText === null || states[states.length - 1] === stateText) return;
    states.push(stateText);
    this.open.set(operationId, states);
  }

  private find(operationId: string, seq: number, step: string, detail: string): void {
    this.findings.push({ code: 'ILLEGAL_PATH', operationId, seq, step, detail });
  }
}

export function describeLifecycleFinding(finding: LifecycleFinding): string {
  return `operation ${finding.operationId} at record ${finding.seq}: illegal path (${finding.step}): ${finding.detail}`;
}
