import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactUrl } from '../db/pool.js';
import { prepareLogins } from '../devstack/logins.js';
import { directorySink } from '../evidence/anchors.js';
import type { EvidenceConfig } from '../evidence/config.js';
import { DEFAULT_ORIGIN } from '../evidence/config.js';
import { DEFAULT_KEY_NAME } from '../evidence/keys.js';
import type { Cleanup } from '../devstack/cleanup.js';
import {
  createDatabase,
  dropDatabase,
  findDatabaseServer,
  randomDatabaseName,
  withDatabase,
} from '../devstack/database.js';
import type { DatabaseServer } from '../devstack/database.js';
import type { Narrator } from './narrator.js';
import { demoS3Anchor } from './local-s3.js';
import { freePorts } from '../net/ports.js';
import { ensureSigningKey } from '../devstack/signing-key.js';
import type { Stack } from '../devstack/stack.js';
import { startStack } from '../devstack/stack.js';
import type { tellStory } from './story.js';
import { createCrmTables, writeDemoFiles } from './targets.js';
import type { DemoFiles } from './targets.js';

export const TASK_QUEUE = 'writ-demo';

/** The part of the demo's options that decides where and how its stack runs. */
export interface SetUpOptions {
  databaseUrl?: string;
  localUrl?: string;
  embedded: boolean;
  workflowBundlePath?: string;
}

/** What the demo set up for one run: the stack, the story's context, and what the closing notes print. */
export interface SetUp {
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

export async function setUp(
  options: SetUpOptions,
  cleanup: Cleanup,
  say: Narrator,
  note: (line: string) => void,
  summary: Record<string, unknown>,
  signal: AbortSignal,
): Promise<SetUp> {
  const workDir = await mkdtemp(join(tmpdir(), 'writ-demo-'));
  cleanup.add(`the directory ${workDir}`, () => rm(workDir, { recursive: true, force: true }));
  const { server, database, ledgerUrl } = await demoDatabase(options, cleanup, note, signal);
  say.item('PostgreSQL', `database ${database} on ${describeServer(server)}`);
  summary.database = { source: server.source, name: database, url: ledgerUrl, embeddedDir: server.embeddedDir ?? null };
  summary.workDir = workDir;

  // The CLI's default origin and key name, so the env printed at the end is all its commands need.
  const key = await ensureSigningKey(join(workDir, 'keys'), DEFAULT_KEY_NAME);
  const { alice, files } = await demoPeopleAndFiles(workDir);
  const { evidence, anchorDir, s3 } = await demoEvidence(workDir, key, cleanup, note);
  const stack = await startDemoStack(options, ledgerUrl, files, evidence, cleanup, note, signal);
  await createCrmTables(stack.pool);
  narrateStack(say, stack, files, key.signer.verifierKey, anchorDir);
  if (s3)
    say.item('S3 anchor', `${s3.sink.name} on a local versitygw at ${s3.endpoint} (Object Lock, compliance mode)`);
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
      requesterKey: alice.privateKey,
      serveUrl: stack.serve.url,
      serviceToken: (id: string) => {
        if (!stack.identity) throw new Error('the demo stack has no identity provider');
        return stack.identity.serviceToken(id);
      },
    },
  };
}

/** The checkpoints' key and anchors: a directory, and a local S3 Object Lock bucket when versitygw is here. */
async function demoEvidence(
  workDir: string,
  key: Awaited<ReturnType<typeof ensureSigningKey>>,
  cleanup: Cleanup,
  note: (line: string) => void,
) {
  const anchorDir = join(workDir, 'anchors');
  const s3 = await demoS3Anchor(workDir, DEFAULT_ORIGIN, cleanup, note);
  const evidence: EvidenceConfig = {
    origin: DEFAULT_ORIGIN,
    keyName: DEFAULT_KEY_NAME,
    signingKeyPath: key.path,
    verifierKey: key.signer.verifierKey,
    anchors: [directorySink(anchorDir), ...(s3 ? [s3.sink] : [])],
  };
  return { evidence, anchorDir, s3 };
}

/** alice signs her requests: the worker runs them as her only because her key proves it. */
async function demoPeopleAndFiles(workDir: string) {
  const alice = generateKeyPairSync('ed25519');
  const files = await writeDemoFiles(workDir, alice.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  return { alice, files };
}

/** A fresh database for this run, on the first server that answers (or an embedded one). */
async function demoDatabase(
  options: SetUpOptions,
  cleanup: Cleanup,
  note: (line: string) => void,
  signal: AbortSignal,
): Promise<{ server: DatabaseServer; database: string; ledgerUrl: string }> {
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
  return { server, database, ledgerUrl: withDatabase(server.adminUrl, database) };
}

function describeServer(server: DatabaseServer): string {
  return server.source === 'embedded'
    ? `an embedded PostgreSQL (${server.embeddedDir}), since no server answered`
    : `${server.source === 'local' ? 'the local server' : 'DATABASE_URL'} ${redactUrl(server.adminUrl)}`;
}

async function startDemoStack(
  options: SetUpOptions,
  ledgerUrl: string,
  files: DemoFiles,
  evidence: EvidenceConfig,
  cleanup: Cleanup,
  note: (line: string) => void,
  signal: AbortSignal,
): Promise<Stack> {
  const [temporalPort, uiPort] = (await freePorts(2)) as [number, number];
  signal.throwIfAborted();
  const logins = await prepareLogins(ledgerUrl);
  return startStack(
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
      identity: { dir: files.dir },
      log: note,
      signal,
    },
    cleanup,
  );
}

function narrateStack(say: Narrator, stack: Stack, files: DemoFiles, verifierKey: string, anchorDir: string): void {
  say.item('ledger', 'migrated: hash-chained records, Merkle checkpoints');
  say.item('signing key', `${verifierKey} (Ed25519, fresh; signs every checkpoint)`);
  say.item('anchors', `${anchorDir} (checkpoints also land outside the database)`);
  say.item('Temporal', `dev server at ${stack.temporalAddress}, Web UI ${stack.webUi}`);
  say.item(
    'worker',
    `task queue ${TASK_QUEUE}; connectors postgres (tables crm.accounts, crm.prices) and files (${files.filesRoot})`,
  );
  say.item('policy', `${files.policyFile}: account changes need a manager's approval; notes and prices do not`);
  say.item('writ serve', `${stack.serve.url} (approval inbox at ${stack.serve.url}/approvals)`);
  if (stack.identity)
    say.item(
      'identity',
      `development OpenID provider at ${stack.identity.provider.issuer} (the directory's people sign in by id); requests and decisions must prove who sent them`,
    );
}
