import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EVENT_TYPES,
  EventType,
  isApprovalTrailEvent,
  isStatementApproval,
  operationEventDraft,
} from '../../src/model/events.js';
import { traceparentOrNew } from '../../src/model/trace-context.js';

const ref = { operationId: 'op-1', correlationId: 'a'.repeat(32), traceparent: undefined, actor: { id: 'alice' } };

describe('operation event drafts', () => {
  test('when a step event is drafted, its key names the operation, type, step and round', () => {
    const draft = operationEventDraft(ref, EventType.stepExecuted, 'executed', { stepIndex: 2, round: 3 });
    assert.equal(draft.idempotencyKey, 'wf/op-1/step.executed/2/3');
  });

  test('when an operation event names no step or round, its key says so with a dash and round 0', () => {
    const draft = operationEventDraft(ref, EventType.operationClosed, 'closed');
    assert.equal(draft.idempotencyKey, 'wf/op-1/operation.closed/-/0');
  });

  test('when every type is listed, each appears once and looks like a record type', () => {
    assert.equal(new Set(EVENT_TYPES).size, EVENT_TYPES.length);
    for (const type of EVENT_TYPES) assert.match(type, /^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/);
  });

  test("when an approval round expires, it is on the trail but is no one's decision in a bundle", () => {
    assert.equal(isApprovalTrailEvent(EventType.operationExpired), true);
    assert.equal(isStatementApproval(EventType.operationExpired), false);
    assert.equal(isStatementApproval(EventType.operationResolved), true);
  });
});

describe('traceparentOrNew', () => {
  test('when a start carries a traceparent, even a malformed one, it is kept and no randomness is drawn', () => {
    const none = () => assert.fail('randomness drawn');
    assert.equal(traceparentOrNew('not-a-traceparent', none), 'not-a-traceparent');
  });

  test('when a start carries none, a new trace is made from the first 48 random hex digits', () => {
    const hex = '0123456789abcdef';
    assert.equal(
      traceparentOrNew(undefined, () => hex.repeat(4)),
      `00-${hex.repeat(2)}-${hex}-01`,
    );
  });
});
