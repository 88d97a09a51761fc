import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { toActivityFailure } from '../../src/activities/failures.js';
import { CliExit, describeForHuman, exitCodeFor } from '../../src/cli/shared/exit.js';
import { InvalidRequestError, OperationConflictError } from '../../src/client.js';
import { HttpUnavailableError } from '../../src/connectors/http/client.js';
import { ConnectorInputError } from '../../src/connectors/types.js';
import { WebhookUnavailableError } from '../../src/connectors/webhook/deliver.js';
import { ChapterFailure } from '../../src/demo/chapters/chapter.js';
import { StoryError } from '../../src/demo/story.js';
import { BundleSelectionError } from '../../src/evidence/bundle/export.js';
import { EvidenceFormatError } from '../../src/verify/format-error.js';
import { KeyNameError } from '../../src/evidence/keys.js';
import { LedgerKeyConflictError } from '../../src/ledger/appender.js';
import { InvalidRecordError } from '../../src/ledger/record.js';
import type { WritErrorCode } from '../../src/model/errors.js';
import {
  ERROR_RULES,
  NON_RETRYABLE_FAILURE_TYPES,
  WritError,
  exitCodeOf,
  failureType,
  hasCode,
  isOperatorProblem,
  isRetryable,
  isWritError,
} from '../../src/model/errors.js';
import { IllegalTransitionError } from '../../src/model/lifecycle.js';
import { BodyTooLarge } from '../../src/serve/http.js';

const CODES = Object.keys(ERROR_RULES) as WritErrorCode[];
const conflict = {
  idempotencyKey: 'k',
  differences: ['payload'],
  existing: { seq: 1, hash: 'a' },
  recorded: { seq: 2, hash: 'b' },
};

/** Expects an ApplicationFailure and returns it typed. */
function failureOf(thrown: unknown, options?: Parameters<typeof toActivityFailure>[1]): ApplicationFailure {
  const failure = toActivityFailure(thrown, options);
  assert.ok(failure instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(failure)}`);
  return failure;
}

describe('which codes a retry can help', () => {
  test('every code that reaches an activity says what the activity edge did before codes existed', () => {
    const reachingActivities: Partial<Record<WritErrorCode, boolean>> = {
      USAGE: false,
      CONFIG: false,
      INVALID_RECORD: false,
      LEDGER_KEY_CONFLICT: false,
      INPUT_REFUSED: false,
      CONNECTOR_INPUT: false,
      LEDGER_APPEND_FAILED: true,
      DB_UNREACHABLE: true,
      DB_MISSING: true,
      HTTP_UNAVAILABLE: true,
      WEBHOOK_UNAVAILABLE: true,
    };
    for (const [code, retryable] of Object.entries(reachingActivities)) {
      assert.equal(isRetryable(code as WritErrorCode), retryable, code);
    }
  });

  test("the workflows' non-retryable list holds every typed failure no retry fixes, and the lists they had", () => {
    const expected = CODES.filter((code) => ERROR_RULES[code].typedFailure && !ERROR_RULES[code].retryable);
    assert.deepEqual(NON_RETRYABLE_FAILURE_TYPES, expected);
    const listed: readonly string[] = NON_RETRYABLE_FAILURE_TYPES;
    for (const earlier of ['INVALID_RECORD', 'CONNECTOR_INPUT', 'CONFIG']) assert.ok(listed.includes(earlier), earlier);
  });

  test('the failure types the workflows branch on are the codes, spelled as in recorded histories', () => {
    assert.equal(failureType('LEDGER_KEY_CONFLICT'), 'LEDGER_KEY_CONFLICT');
    assert.throws(() => failureType('HTTP_UNAVAILABLE'), /leaves activities as thrown/);
  });
});

describe('how the CLI exits', () => {
  test('each code has the documented exit status: 1 when the thing checked or submitted is bad, else 2', () => {
    const bad = new Set<WritErrorCode>([
      'INVALID_RECORD',
      'LEDGER_DAMAGED',
      'LEDGER_KEY_CONFLICT',
      'INVALID_REQUEST',
      'OPERATION_CONFLICT',
      'REQUEST_TOO_LARGE',
      'NOT_CANONICAL',
      'STORY_NOT_AS_TOLD',
      'UNDER_HOLD',
    ]);
    for (const code of CODES) assert.equal(exitCodeOf(code), bad.has(code) ? 1 : 2, code);
  });

  test("a thrown error exits with its code's status; a CliExit with its own; anything else with 2", () => {
    assert.equal(exitCodeFor(new InvalidRecordError('record 1: actor.id is missing')), 1);
    assert.equal(exitCodeFor(new WritError('LEDGER_DAMAGED', 'the view has none')), 1);
    assert.equal(exitCodeFor(new WritError('CONFIG', 'no key')), 2);
    assert.equal(exitCodeFor(new WritError('DB_UNREACHABLE', 'no server')), 2);
    assert.equal(exitCodeFor(new CliExit(3, 'signer unknown')), 3);
    assert.equal(exitCodeFor(new Error('a bug')), 2);
    assert.equal(exitCodeFor('thrown text'), 2);
  });

  test("the message a user reads is the error's, with its hint on the next line", () => {
    const withHint = new WritError('CONFIG', 'no key', 'Set WRIT_SIGNING_KEY.');
    assert.equal(describeForHuman(withHint), 'writ: no key\nSet WRIT_SIGNING_KEY.');
    assert.equal(describeForHuman(new InvalidRecordError('record 1: bad')), 'writ: record 1: bad');
    assert.equal(describeForHuman(new CliExit(1, 'refused')), 'writ: refused');
    assert.equal(describeForHuman('text'), 'writ: text');
  });
});

describe('how an error leaves an activity', () => {
  test('a connector refusal becomes a non-retryable CONNECTOR_INPUT failure with the same message', () => {
    const failure = failureOf(new ConnectorInputError('target "x" is refused: outside the root'));
    assert.equal(failure.type, 'CONNECTOR_INPUT');
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.message, 'target "x" is refused: outside the root');
  });

  test('a refused record becomes a non-retryable INVALID_RECORD failure', () => {
    const failure = failureOf(new InvalidRecordError('record 2: actor.kind is missing'));
    assert.equal(failure.type, 'INVALID_RECORD');
    assert.equal(failure.nonRetryable, true);
  });

  test('a key conflict carries the conflict, then what the step wrote, as details', () => {
    const error = new LedgerKeyConflictError('key k holds another record', conflict);
    const plain = failureOf(error);
    assert.equal(plain.type, 'LEDGER_KEY_CONFLICT');
    assert.equal(plain.nonRetryable, true);
    assert.deepEqual(plain.details, [conflict]);
    const executed = { after: 1 };
    assert.deepEqual(failureOf(error, { details: [{ executed }] }).details, [conflict, { executed }]);
  });

  test('input too deep for the runtime (a RangeError) becomes a non-retryable INPUT_REFUSED failure', () => {
    const failure = failureOf(new RangeError('Maximum call stack size exceeded'));
    assert.equal(failure.type, 'INPUT_REFUSED');
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.message, 'input refused: Maximum call stack size exceeded');
    assert.equal(failureOf(new RangeError('x'.repeat(500))).message, `input refused: ${'x'.repeat(200)}`);
  });

  test('a failed append is retried, and only the ledger activity keeps the error as its cause', () => {
    const error = new WritError('LEDGER_APPEND_FAILED', 'ledger append failed');
    const failure = failureOf(error);
    assert.equal(failure.type, 'LEDGER_APPEND_FAILED');
    assert.equal(failure.nonRetryable, false);
    assert.equal(failure.cause, undefined);
    assert.equal(failureOf(error, { keepCause: true }).cause, error);
  });

  test('a missing setup (CONFIG, USAGE) is not retried', () => {
    assert.equal(failureOf(new WritError('CONFIG', 'no signing key')).nonRetryable, true);
    assert.equal(failureOf(new WritError('USAGE', 'cannot run standalone')).nonRetryable, true);
  });

  test("errors Temporal always named by class leave as thrown, as does anything not Writ's", () => {
    const untyped = [
      new HttpUnavailableError('GET x: 503'),
      new WebhookUnavailableError('POST x: 503'),
      new EvidenceFormatError('bad'),
      new Error('bug'),
    ];
    for (const error of untyped) {
      assert.equal(toActivityFailure(error), error);
    }
  });

  test('a WritError from another copy of the module is still known by its code', () => {
    const copy = Object.assign(new Error('refused'), { name: 'ConnectorInputError', code: 'CONNECTOR_INPUT' });
    assert.ok(isWritError(copy));
    assert.equal(failureOf(copy).type, 'CONNECTOR_INPUT');
    const nodeError = Object.assign(new Error('exists'), { code: 'EEXIST' });
    assert.equal(isWritError(nodeError), false);
    assert.equal(toActivityFailure(nodeError), nodeError);
  });
});

describe('every error Writ throws on purpose', () => {
  test('is a WritError with a fixed code, keeping its class name and message', () => {
    const cases: Array<[Error, WritErrorCode, string]> = [
      [new IllegalTransitionError('m'), 'ILLEGAL_TRANSITION', 'IllegalTransitionError'],
      [new BodyTooLarge('m'), 'BODY_TOO_LARGE', 'BodyTooLarge'],
      [new LedgerKeyConflictError('m', conflict), 'LEDGER_KEY_CONFLICT', 'LedgerKeyConflictError'],
      [new InvalidRecordError('m'), 'INVALID_RECORD', 'InvalidRecordError'],
      [new InvalidRequestError('m'), 'INVALID_REQUEST', 'InvalidRequestError'],
      [new OperationConflictError('m'), 'OPERATION_CONFLICT', 'OperationConflictError'],
      [new WebhookUnavailableError('m'), 'WEBHOOK_UNAVAILABLE', 'WebhookUnavailableError'],
      [new HttpUnavailableError('m'), 'HTTP_UNAVAILABLE', 'HttpUnavailableError'],
      [new ConnectorInputError('m'), 'CONNECTOR_INPUT', 'ConnectorInputError'],
      [new ChapterFailure('m'), 'STORY_NOT_AS_TOLD', 'ChapterFailure'],
      [new BundleSelectionError('m'), 'BUNDLE_SELECTION', 'BundleSelectionError'],
      [new KeyNameError('m'), 'KEY_NAME', 'KeyNameError'],
      [new EvidenceFormatError('m'), 'EVIDENCE_MALFORMED', 'EvidenceFormatError'],
    ];
    for (const [error, code, name] of cases) {
      assert.ok(error instanceof WritError, name);
      assert.ok(hasCode(error, code), name);
      assert.equal(error.name, name);
      assert.equal(error.message, 'm');
    }
  });

  test('a story that did not go as told exits 1, one that could not be told exits 2', () => {
    type Chapter = ConstructorParameters<typeof StoryError>[0];
    const chapter = { number: 2, title: 'Approval', ok: false, error: 'no approval' } as unknown as Chapter;
    assert.equal(exitCodeFor(new StoryError(chapter, true)), 1);
    assert.equal(exitCodeFor(new StoryError(chapter, false)), 2);
  });

  test('only environment and setup problems are shown to readers of writ serve', () => {
    assert.ok(isOperatorProblem(new WritError('CONFIG', 'no secret')));
    assert.equal(isOperatorProblem(new BundleSelectionError('no records match')), false);
    assert.equal(isOperatorProblem(new Error('bug')), false);
  });
});
