import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactUrl } from '../db/pool.js';
import { prepareLogins } from '../devstack/logins.js';
import { directorySink } from '../evidence/anchors.js';
import type { EvidenceConfig } from '../evidence/config.js';
import { DEFAULT_ORIGIN } from '../evidence/config.js';
import { DEFAULT_KEY_NAME } from '../evidence/keys.js';
import { Cleanup, holdSignalsDuringCleanup, nextSignal } from '../devstack/cleanup.js';
import {
  createDatabase,
  dropDatabase,
  findDatabaseServer,
  randomDatabaseName,
  withDatabase,
} from '../devstack/database.js';
import type { DatabaseServer } from '../devstack/database.js';
import { Narrator } from './narrator.js';
import { freePort } from '../net/ports.js';
import { ensureSigningKey } from '../devstack/signing-key.js';
import type { Stack } from '../devstack/stack.js';
import { startStack, webUiOperation, webUiQuery } from '../devstack/stack.js';
import type { ChapterResult } from './story.js';
import { CHAPTERS, StoryError, tellStory } from './story.js';
import { createCrmTables, writeDemoFiles } from './targets.js';

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

const TASK_QUEUE = 'writ-demo';
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
  const note = (line: string) => process.stderr.write(`   ${line}\n`);
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
    say.line('Writ demo: every automated write becomes a durable workflow with a ledger that proves what happened.');
    say.heading('Setting up (everything below is made for this run and removed at the end):');
    const started = Date.now();
    const setup = await setUp(options, cleanup, say, note, summary, abort.signal);
    say.line(`   ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const story = setup.stack.client.connection.withAbortSignal(abort.signal, () =>
      tellStory(setup.context, (result) => chapters.push(result)),
    );
    // A worker that dies would leave the story waiting for ever: end it with the worker's error.
    setup.stack.workerFailure.catch((error: Error) => abort.abort(error));
    try {
      await story;
    } catch (error) {
      const reason: unknown = abort.signal.aborted ? abort.signal.reason : undefined;
      if (reason === undefined || reason instanceof Interrupted) throw reason ?? error;
      // The worker died: name the chapter it took down with it.
      const broken = chapters.at(-1);
      throw broken ? new StoryError({ ...broken, error: (reason as Error).message }, false) : reason;
    }
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
    if (error instanceof Interrupted) outcome = { exitCode: 130, message: `demo ${error.message}` };
    else if (error instanceof StoryError) outcome = { exitCode: error.expected ? 1 : 2, message: error.message };
    else outcome = { exitCode: 2, message: `the demo could not set up its stack: ${describe(error)}` };
  }
  const release = holdSignalsDuringCleanup((line) => say.line(`   ${line}`));
  signals.stop();
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

interface SetUp {
  stack: Stack;
  context: Parameters<typeof tellStory>[0];
  server: DatabaseServer;
  database: string;
  ledgerUrl: string;
  workDir: string;
  filesRoot: string;
  policyFile: string;
  evidence: EvidenceConfig;
  anchorDir: string;
}

async function setUp(
  options: DemoOptions,
  cleanup: Cleanup,
  say: Narrator,
  note: (line: string) => void,
  summary: Record<string, unknown>,
  signal: AbortSignal,
): Promise<SetUp> {
  const workDir = await mkdtemp(join(tmpdir(), 'writ-demo-'));
  cleanup.add(`the directory ${workDir}`, () => rm(workDir, { recursive: true, force: true }));

  const server = await findDatabaseServer({
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.localUrl ? { localUrl: options.localUrl } : {}),
    // Not inside workDir: an unprivileged PostgreSQL must be able to reach its own directory.
    embedded: options.embedded
      ? { dir: join(tmpdir(), `writ-demo-postgres-${randomBytes(4).toString('hex')}`) }
      : false,
    log: note,
  });
  cleanup.add(server.source === 'embedded' ? 'the embedded PostgreSQL' : 'the database server connection', () =>
    server.close(),
  );
  signal.throwIfAborted();
  const database = randomDatabaseName('writ_demo');
  await createDatabase(server.adminUrl, database, { fresh: true });
  cleanup.add(`the database ${database}`, () => dropDatabase(server.adminUrl, database));
  const ledgerUrl = withDatabase(server.adminUrl, database);
  const where =
    server.source === 'embedded'
      ? `an embedded PostgreSQL (${server.embeddedDir}), since no server answered`
      : `${server.source === 'local' ? 'the local server' : 'DATABASE_URL'} ${redactUrl(server.adminUrl)}`;
  say.item('PostgreSQL', `database ${database} on ${where}`);
  summary.database = { source: server.source, name: database, url: ledgerUrl, embeddedDir: server.embeddedDir ?? null };
  summary.workDir = workDir;

  // The CLI's default origin and key name, so the env printed at the end is all its commands need.
  const key = await ensureSigningKey(join(workDir, 'keys'), DEFAULT_KEY_NAME);
  const files = await writeDemoFiles(workDir);
  const anchorDir = join(workDir, 'anchors');
  const evidence: EvidenceConfig = {
    origin: DEFAULT_ORIGIN,
    keyName: DEFAULT_KEY_NAME,
    signingKeyPath: key.path,
    verifierKey: key.signer.verifierKey,
    anchors: [directorySink(anchorDir)],
  };
  const [temporalPort, uiPort] = [await freePort(), await freePort()];
  signal.throwIfAborted();
  const logins = await prepareLogins(ledgerUrl);
  const stack = await startStack(
    {
      ledgerUrl,
      logins,
      taskQueue: TASK_QUEUE,
      temporal: { port: temporalPort, uiPort },
      worker: {
        policyFile: files.policyFile,
        approversFile: files.approversFile,
        // The connector's own login, granted the crm tables only. They live in the ledger's database,
        // so the demo opts in to that on purpose (the connector still never reaches the writ schemas).
        connectors: {
          postgresUrl: logins.connector,
          postgresAllowLedgerDatabase: true,
          postgresTables: ['crm.*'],
          filesRoot: files.filesRoot,
        },
        evidence,
        ...(options.workflowBundlePath ? { workflowBundlePath: options.workflowBundlePath } : {}),
      },
      serve: { host: '127.0.0.1', port: 0, linkSecret: randomBytes(32).toString('hex') },
      log: note,
      signal,
    },
    cleanup,
  );
  await createCrmTables(stack.pool);
  say.item('ledger', 'migrated: hash-chained records, Merkle checkpoints');
  say.item('signing key', `${key.signer.verifierKey} (Ed25519, fresh; signs every checkpoint)`);
  say.item('anchors', `${anchorDir} (checkpoints also land outside the database)`);
  say.item('Temporal', `dev server at ${stack.temporalAddress}, Web UI ${stack.webUi}`);
  say.item(
    'worker',
    `task queue ${TASK_QUEUE}; connectors postgres (tables crm.accounts, crm.prices) and files (${files.filesRoot})`,
  );
  say.item('policy', `${files.policyFile}: account changes need a manager's approval; notes and prices do not`);
  say.item('writ serve', stack.serve.url);
  summary.temporal = { address: stack.temporalAddress, webUi: stack.webUi, taskQueue: TASK_QUEUE };
  summary.serve = { url: stack.serve.url };
  summary.filesRoot = files.filesRoot;
  summary.verifierKey = key.signer.verifierKey;
  return {
    stack,
    server,
    database,
    ledgerUrl,
    workDir,
    filesRoot: files.filesRoot,
    policyFile: files.policyFile,
    evidence,
    anchorDir,
    context: {
      signal,
      writ: stack.writ,
      pool: stack.pool,
      filesRoot: files.filesRoot,
      workDir,
      signer: key.signer,
      evidence,
      say,
      operations: new Map(),
    },
  };
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
