/**
 * One test run: one Temporal dev server and one PostgreSQL database (a migrated template that
 * tests clone when they need a ledger of their own), both torn down at the end whatever happens.
 * Node's test runner has no global setup on Node 20, so this wraps it; each file runs in a
 * `node --test` of its own, two at a time, killed after WRIT_TEST_FILE_TIMEOUT_MS (./files.ts).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { bundleWorkflowCode } from '@temporalio/worker';
import { writBundleOptions } from '../../src/plugin.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startDevServer } from '../../src/devserver/dev-server.js';
import { findGo } from '../../src/devserver/go-build.js';
import { ensureTemporalBinaries } from '../../src/devserver/temporal-binaries.js';
import { ensureVersitygw } from '../../src/devserver/versitygw.js';
import { freePort } from '../../src/net/ports.js';
import { explainConnectionError } from '../../src/db/pool.js';
import { migrate } from '../../src/ledger/migrate.js';
import { adminUrl, databaseUrlFor } from '../support/urls.js';
import { dropLeftoverClusters } from '../support/topology/pg-cluster.js';
import { fileTimeoutFrom, killRunningFiles, runTestFiles } from './files.js';

async function main(): Promise<number> {
  let timeoutMs: number;
  try {
    timeoutMs = fileTimeoutFrom(process.env);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const runId = `writ_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const template = `${runId}_template`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  try {
    await admin.connect();
  } catch (error) {
    const explained = explainConnectionError(error, adminUrl());
    console.error(
      `tests need PostgreSQL: ${(explained as Error).message}\n${(explained as { hint?: string }).hint ?? ''}`,
    );
    return 2;
  }
  let server: Awaited<ReturnType<typeof startDevServer>> | undefined;
  const bundlePath = join(tmpdir(), `${runId}-workflows.js`);
  const tracedBundlePath = join(tmpdir(), `${runId}-workflows-traced.js`);
  try {
    await admin.query(`CREATE DATABASE ${template}`);
    await migrate(databaseUrlFor(template));
    // test/topology runs the production server natively: build it once here (cached after the
    // first time), not in two test files at once. A run of chosen files that holds none of them
    // does not wait for that build.
    const files = process.argv.slice(2);
    const needsServer = !files.length || files.some((file) => /[\\/]topology[\\/]/.test(file));
    if (needsServer && findGo(process.env)) await ensureTemporalBinaries(process.env, (line) => console.error(line));
    // test/anchor runs a real S3 server (versitygw): build it once here too. Without Go the files
    // themselves say so (and fail in CI).
    const needsS3 = !files.length || files.some((file) => /[\\/]anchor[\\/]/.test(file));
    if (needsS3 && findGo(process.env)) await ensureVersitygw(process.env, (line) => console.error(line));
    console.error(`test run ${runId}: starting the Temporal dev server`);
    // With its Web UI, so test/webui can drive it in a browser (WRIT_TEST_TEMPORAL_UI below).
    const uiPort = await freePort();
    server = await startDevServer({ ui: true, uiPort, log: (line) => console.error(line) });
    // Every `writ worker` a test starts uses this bundle instead of bundling for seconds itself.
    writeFileSync(bundlePath, (await bundleWorkflowCode({ ...writBundleOptions(), logger: quietBundlerLogger })).code);
    // And the one a worker that traces needs, as the Docker image has both (test/telemetry).
    writeFileSync(
      tracedBundlePath,
      (await bundleWorkflowCode({ ...writBundleOptions({ tracing: true }), logger: quietBundlerLogger })).code,
    );
    const { exitCode } = await runTestFiles({
      files: files.length ? files : findTestFiles(fileURLToPath(new URL('..', import.meta.url))),
      concurrency: 2,
      timeoutMs,
      out: process.stdout,
      env: {
        ...process.env,
        WRIT_TEST_RUN: runId,
        WRIT_TEST_TEMPLATE: template,
        TEMPORAL_ADDRESS: server.address,
        WRIT_TEST_TEMPORAL_UI: `http://127.0.0.1:${uiPort}`,
        WRIT_WORKFLOW_BUNDLE: bundlePath,
        WRIT_WORKFLOW_BUNDLE_TRACED: tracedBundlePath,
      },
    });
    return exitCode;
  } finally {
    rmSync(bundlePath, { force: true });
    rmSync(tracedBundlePath, { force: true });
    await server?.teardown().catch((error: Error) => console.error(`dev server teardown: ${error.message}`));
    const leftovers = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `${runId}%`,
    ]);
    for (const { datname } of leftovers.rows)
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
    // test/topology's own PostgreSQL clusters, should a killed test file have left one running.
    await dropLeftoverClusters(runId).catch((error: Error) => console.error(`cluster cleanup: ${error.message}`));
    await admin.end();
  }
}

const quietBundlerLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

/** Node 20's runner, given a directory, would also run helpers and this harness: name the tests. */
function findTestFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.js'))
    .sort()
    .map((file) => join(dir, file));
}

// Interrupted: the files' process groups are not ours to be signalled with, so kill them, then
// let main's finally drop the databases and stop the dev server.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`test run: ${signal}, stopping the running files`);
    killRunningFiles();
  });
}

process.exitCode = await main();
