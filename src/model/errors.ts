/**
 * One error type with a string code, and one table that says what each code means to whoever
 * meets it: whether a retry can help (the activity edge and the workflows' retry policies read
 * it), and how the CLI exits. Callers branch on `code` (`hasCode`), never on `instanceof` across
 * package boundaries or on names and messages. Pure: workflows import the table.
 */

/** DESIGN.md section 6 and README: the CLI's exit statuses. */
export const EXIT = { ok: 0, bad: 1, usage: 2, signerUnknown: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

interface ErrorRule {
  /** Whether trying the same thing again can succeed. */
  readonly retryable: boolean;
  /** How `writ` exits when an error with this code ends a command. */
  readonly exitCode: ExitCode;
  /**
   * Whether it leaves an activity as an ApplicationFailure whose `type` is the code and whose
   * `nonRetryable` is `!retryable`. Otherwise it leaves as thrown: Temporal types the failure
   * with the class name and retries it, as it did before codes existed. Failure types are in
   * recorded histories and in users' retry policies, so which codes are typed must not change.
   */
  readonly typedFailure: boolean;
  /**
   * Its message and hint tell whoever runs Writ what to fix (the environment, the setup), so
   * `writ serve` shows them; any other error reaching a server is a bug for the log.
   */
  readonly forOperators: boolean;
}

type Rule = (retryable: boolean, exitCode: ExitCode) => ErrorRule;
/** Problems with the environment or setup, which say what to do: they were WritErrors from the start. */
const operatorProblem: Rule = (retryable, exitCode) => ({
  retryable,
  exitCode,
  typedFailure: true,
  forOperators: true,
});
/** Refusals the workflow must see by code: an activity raises them as typed failures. */
const typedRefusal: Rule = (retryable, exitCode) => ({
  retryable,
  exitCode,
  typedFailure: true,
  forOperators: false,
});
/** Everything else: its callers handle it, and if it ever leaves an activity it does so as thrown. */
const plain: Rule = (retryable, exitCode) => ({
  retryable,
  exitCode,
  typedFailure: false,
  forOperators: false,
});

export const ERROR_RULES = {
  USAGE: operatorProblem(false, EXIT.usage),
  CONFIG: operatorProblem(false, EXIT.usage),
  DB_UNREACHABLE: operatorProblem(true, EXIT.usage),
  DB_MISSING: operatorProblem(true, EXIT.usage),
  TEMPORAL_CLI_MISSING: operatorProblem(false, EXIT.usage),
  TEMPORAL_UNREACHABLE: operatorProblem(true, EXIT.usage),
  /** An operation's workflow task kept failing while a decision was offered to it: none was taken. */
  WORKFLOW_NOT_READY: operatorProblem(true, EXIT.usage),
  /** The database failed mid-append (none of the batch was written): worth another attempt. */
  LEDGER_APPEND_FAILED: operatorProblem(true, EXIT.usage),
  LEDGER_DAMAGED: operatorProblem(false, EXIT.bad),
  /** A record the ledger refuses as malformed: it would be refused again. */
  INVALID_RECORD: typedRefusal(false, EXIT.bad),
  /** The key holds another record (the ledger recorded the conflict): a retry only finds it again. */
  LEDGER_KEY_CONFLICT: typedRefusal(false, EXIT.bad),
  /** Input nested or sized past what code can walk (a RangeError): as deep on every retry. */
  INPUT_REFUSED: typedRefusal(false, EXIT.usage),
  /** A connector's refusal that no retry can fix (bad params, a target that does not exist). */
  CONNECTOR_INPUT: typedRefusal(false, EXIT.usage),
  /** An outside system could not be reached or kept failing: worth trying again later. */
  HTTP_UNAVAILABLE: plain(true, EXIT.usage),
  WEBHOOK_UNAVAILABLE: plain(true, EXIT.usage),
  /** A lifecycle move the state machine forbids: a bug in the workflow, thrown in workflow code. */
  ILLEGAL_TRANSITION: plain(false, EXIT.usage),
  /** Requests refused by the client before a workflow starts; `writ submit` exits 1 on them. */
  INVALID_REQUEST: plain(false, EXIT.bad),
  OPERATION_CONFLICT: plain(false, EXIT.bad),
  REQUEST_TOO_LARGE: plain(false, EXIT.bad),
  /** An HTTP request body past the server's limit (413). */
  BODY_TOO_LARGE: plain(false, EXIT.usage),
  /** Ledger text that is not RFC 8785 canonical JSON; the checker turns it into a finding. */
  NOT_CANONICAL: plain(false, EXIT.bad),
  /** A note, checkpoint or verifier key not in its format. */
  EVIDENCE_MALFORMED: plain(false, EXIT.usage),
  KEY_NAME: plain(false, EXIT.usage),
  BUNDLE_SELECTION: plain(false, EXIT.usage),
  /** The bundle directory itself cannot be listed (missing, not a directory, no permission). */
  BUNDLE_UNREADABLE: plain(false, EXIT.usage),
  /** `writ demo`: a chapter did not go as told (exit 1), or could not be told at all (exit 2). */
  STORY_NOT_AS_TOLD: plain(false, EXIT.bad),
  STORY_UNTOLD: plain(false, EXIT.usage),
  /** Erasure or retention would touch values under a legal hold: refused (and the refusal recorded). */
  UNDER_HOLD: plain(false, EXIT.bad),
  /** `writ erase` of a subject with no sealed values (never had any, or already erased). */
  UNKNOWN_SUBJECT: plain(false, EXIT.usage),
} as const satisfies Record<string, ErrorRule>;

export type WritErrorCode = keyof typeof ERROR_RULES;

export class WritError extends Error {
  override readonly name: string = 'WritError';
  constructor(
    readonly code: WritErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** What the workflow receives as the ApplicationFailure's details, when the code is typed. */
  get failureDetails(): unknown[] | undefined {
    return undefined;
  }
}

export function isWritError(value: unknown): value is WritError {
  if (value instanceof WritError) return true;
  // A WritError from another copy of this module (a bundled connector, dist next to src).
  const code = (value as { code?: unknown } | null)?.code;
  return value instanceof Error && typeof code === 'string' && Object.hasOwn(ERROR_RULES, code);
}

export function hasCode<C extends WritErrorCode>(value: unknown, code: C): value is WritError & { readonly code: C } {
  return isWritError(value) && value.code === code;
}

export const isRetryable = (code: WritErrorCode): boolean => ERROR_RULES[code].retryable;

/** A WritError whose message and hint are meant for whoever runs Writ (see `forOperators`). */
export function isOperatorProblem(value: unknown): value is WritError {
  return isWritError(value) && ERROR_RULES[value.code].forOperators;
}
export const exitCodeOf = (code: WritErrorCode): ExitCode => ERROR_RULES[code].exitCode;

/** The `type` of the ApplicationFailure an activity raises for this code (the code itself). */
export function failureType(code: WritErrorCode): string {
  if (!ERROR_RULES[code].typedFailure) throw new Error(`${code} leaves activities as thrown, not as a typed failure`);
  return code;
}

/**
 * Every failure type a retry cannot help: the workflows' `nonRetryableErrorTypes`. The activity
 * edge already marks these failures nonRetryable; the list says so in the retry policy too.
 */
export const NON_RETRYABLE_FAILURE_TYPES: string[] = (Object.keys(ERROR_RULES) as WritErrorCode[]).filter(
  (code) => ERROR_RULES[code].typedFailure && !ERROR_RULES[code].retryable,
);

/** Anything thrown becomes an Error, so callers never handle `unknown`. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
