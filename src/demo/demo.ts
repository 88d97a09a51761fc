import { setMaxListeners } from 'node:events';
import { Cleanup, holdSignalsDuringCleanup, nextSignal } from '../devstack/cleanup.js';
import { Narrator } from './narrator.js';
import type { Stack } from '../devstack/stack.js';
import { webUiOperation, webUiQuery } from '../devstack/stack.js';
import type { ChapterResult } from './story.js';
import { CHAPTERS, StoryError, tellStory } from './story.js';
import type { SetUp } from './setup.js';
import { TASK_QUEUE, setUp } from './setup.js';

export interface DemoOptions {
  /** DATABASE_URL or --database-url: a server where the demo may create its database. */
  databaseUrl?: string;
  /** The local server tried next (default postgres@127.0.0.1:5432). */
  localUrl?: string;
  /** Fall back to an embedded PostgreSQL when no server answers. */
  embedded: boolean;
  /** Keep everything running after the story until SIGINT/SIGTERM. */
  keep: boolean;
  /** Narrate on stderr and print one JSON summary line on stdout. */
  json: boolean;
  /** A prebuilt workflow bundle (WRIT_WORKFLOW_BUNDLE), to skip seconds of bundling. */
  workflowBundlePath?: string;
}

/**
 * How the demo ended: 0 every chapter went as told; 1 one did not; 2 the stack could not be set up;
 * 130 interrupted.
 */
export interface DemoOutcome {
  exitCode: 0 | 1 | 2 | 130;
  message?: string;
}

const LINK_TTL_SECONDS = 24 * 3600;

/**
 * The abort reason when the user stops the demo (exit 130, the shell's convention for a signal).
 * Not a WritError: it is control flow inside runDemo, never thrown past it, and no failure.
 */
class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

export async function runDemo(options: DemoOptions): Promise<DemoOutcome> {
  const say = new Narrator((text) => (options.json ? process.stderr : process.stdout).write(text));
  const cleanup = new Cleanup();
  const signals = nextSignal();
  // A Ctrl-C aborts this: setup stops at its next step and the story's Temporal calls are
  // cancelled, so nothing is still running when clean-up takes things down under it.
  const abort = new AbortController();
  // Every Temporal call of the story listens to it; there are more than Node's default of 10.
  setMaxListeners(0, abort.signal);
  void signals.signal.then((signal) => abort.abort(new Interrupted(signal)));
  const chapters: ChapterResult[] = [];
  const summary: Record<string, unknown> = { ok: false, chapters };
  let outcome: DemoOutcome;
  try {
    const setup = await narratedSetUp(options, cleanup, say, summary, abort.signal);
    await tellStoryOnStack(setup, chapters, abort);
    summary.ok = true;
    explore(setup.stack, setup, say, options.keep, summary);
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    say.heading(`All ${CHAPTERS.length} chapters went as told.`);
    if (options.keep) {
      say.line(
        'Everything keeps running so you can look around. Press Ctrl-C to stop; the demo then removes all of it.',
      );
      await signals.signal;
    }
    outcome = { exitCode: 0 };
  } catch (thrown) {
    // Whatever a Ctrl-C made fail on its way out, the reason the demo ended is the Ctrl-C.
    const error: unknown = abort.signal.reason instanceof Interrupted ? abort.signal.reason : thrown;
    if (options.json && !summary.ok)
      process.stdout.write(`${JSON.stringify({ ...summary, error: (error as Error).message })}\n`);
    outcome = failedOutcome(error);
  }
  const release = holdSignalsDuringCleanup((line) => say.line(`   ${line}`));
  signals.stop();
  return cleanUp(cleanup, say, release, outcome);
}

async function narratedSetUp(
  options: DemoOptions,
  cleanup: Cleanup,
  say: Narrator,
  summary: Record<string, unknown>,
  signal: AbortSignal,
): Promise<SetUp> {
  const note = (line: string) => process.stderr.write(`   ${line}\n`);
  say.line('Writ demo: every automated write becomes a durable workflow with a ledger that proves what happened.');
  say.heading('Setting up (everything below is made for this run and removed at the end):');
  const started = Date.now();
  const setup = await setUp(options, cleanup, say, note, summary, signal);
  say.line(`   ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return setup;
}

async function tellStoryOnStack(setup: SetUp, chapters: ChapterResult[], abort: AbortController): Promise<void> {
  const { signal } = abort;
  const story = setup.stack.client.connection.withAbortSignal(signal, () =>
    tellStory(setup.context, (result) => chapters.push(result)),
  );
  // A worker that dies would leave the story waiting for ever: end it with the worker's error.
  setup.stack.workerFailure.catch((error: Error) => abort.abort(error));
  try {
    await story;
  } catch (error) {
    const reason: unknown = signal.aborted ? signal.reason : undefined;
    if (reason === undefined || reason instanceof Interrupted) throw reason ?? error;
    // The worker died: name the chapter it took down with it.
    const broken = chapters.at(-1);
    throw broken ? new StoryError({ ...broken, error: (reason as Error).message }, false) : reason;
  }
}

function failedOutcome(error: unknown): DemoOutcome {
  if (error instanceof Interrupted) return { exitCode: 130, message: `demo ${error.message}` };
  if (error instanceof StoryError) return { exitCode: error.expected ? 1 : 2, message: error.message };
  return { exitCode: 2, message: `the demo could not set up its stack: ${describe(error)}` };
}

async function cleanUp(
  cleanup: Cleanup,
  say: Narrator,
  release: () => void,
  outcome: DemoOutcome,
): Promise<DemoOutcome> {
  say.heading('Cleaning up:');
  const failures = await cleanup.run((line) => say.line(`   ${line}`));
  release();
  say.line(
    failures.length
      ? `   ${failures.length} thing(s) could not be removed (see above)`
      : '   done: everything the demo made is removed (its database, servers and files)',
  );
  if (failures.length && outcome.exitCode === 0)
    return { exitCode: 2, message: `clean-up failed: ${failures.join('; ')}` };
  return outcome;
}

/** Where to look: the Web UI, each story operation's timeline page, and the env for the CLI. */
function explore(stack: Stack, setup: SetUp, say: Narrator, keep: boolean, summary: Record<string, unknown>): void {
  say.heading(
    keep
      ? 'Look around (everything stays up until Ctrl-C):'
      : 'Where to look (run `npm run demo -- --keep` to keep all of this running and open it):',
  );
  say.item('Temporal Web UI', webUiQuery(stack.webUi, `TaskQueue="${TASK_QUEUE}"`));
  say.line('   Every operation of the story, with its signed timeline page (links valid for a day):');
  const links: Record<string, unknown> = {};
  for (const [number, operationId] of setup.context.operations) {
    const link = stack.serve.link(operationId, 'writ-demo', LINK_TTL_SECONDS);
    links[operationId] = { chapter: number, webUi: webUiOperation(stack.webUi, operationId), ...link };
    say.line(`   ${number}. ${CHAPTERS[number - 1]!.title}`);
    say.item('   workflow', webUiOperation(stack.webUi, operationId));
    say.item('   timeline', link.timeline);
  }
  summary.links = links;
  say.line('   Use the CLI against this stack from another terminal:');
  say.line(
    `     export DATABASE_URL='${setup.ledgerUrl}' TEMPORAL_ADDRESS=${stack.temporalAddress} WRIT_TASK_QUEUE=${TASK_QUEUE} \\`,
  );
  say.line(
    `       WRIT_SIGNING_KEY='${setup.evidence.signingKeyPath}' WRIT_VERIFIER_KEY='${setup.evidence.verifierKey}' WRIT_ANCHOR_DIR='${setup.anchorDir}'`,
  );
  const first = setup.context.operations.get(2);
  if (first) say.line(`     npm run -s writ -- what-happened ${first} --timeline`);
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const hint = (error as { hint?: string }).hint;
  return hint ? `${message}\n${hint}` : message;
}
