/**
 * Runs test files as separate `node --test` processes, a few at a time, each bounded in time.
 * Node's own `--test-timeout` is per test, and a test stuck in a `finally` or a child process
 * that never exits holds the run; here a file that takes longer than the limit is killed with
 * everything it started (its process group) and fails by name.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

export interface FileRunOptions {
  files: string[];
  concurrency: number;
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
  out: Writable;
}

export interface FileOutcome {
  file: string;
  status: 'passed' | 'failed' | 'timed out';
  tests: { passed: number; failed: number };
  ms: number;
  /** What went wrong, for the closing summary: a failed file's output is far above it in the log. */
  why: string[];
}

export const DEFAULT_FILE_TIMEOUT_MS = 10 * 60_000;

/** `WRIT_TEST_FILE_TIMEOUT_MS`, or the default; anything else is refused with what was wrong. */
export function fileTimeoutFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.WRIT_TEST_FILE_TIMEOUT_MS;
  if (raw === undefined || raw === '') return DEFAULT_FILE_TIMEOUT_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms <= 0)
    throw new Error(
      `WRIT_TEST_FILE_TIMEOUT_MS must be a positive whole number of milliseconds, got ${JSON.stringify(raw)}`,
    );
  return ms;
}

const running = new Set<number>();
let stopping = false;

/** The harness was interrupted: start no more files and kill those running, with all they started. */
export function killRunningFiles(): void {
  stopping = true;
  for (const pid of running) killGroup(pid);
}

export async function runTestFiles(options: FileRunOptions): Promise<{ exitCode: number; outcomes: FileOutcome[] }> {
  const queue = [...options.files];
  const outcomes: FileOutcome[] = [];
  const lane = async () => {
    for (let file = queue.shift(); file !== undefined && !stopping; file = queue.shift())
      outcomes.push(await runFile(file, options));
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, options.files.length)) }, lane));
  const order = new Map(options.files.map((file, i) => [file, i]));
  outcomes.sort((a, b) => order.get(a.file)! - order.get(b.file)!);

  const bad = outcomes.filter((o) => o.status !== 'passed');
  const passed = outcomes.reduce((sum, o) => sum + o.tests.passed, 0);
  const failed = outcomes.reduce((sum, o) => sum + o.tests.failed, 0);
  const write = (line: string) => options.out.write(`${line}\n`);
  write('');
  write(
    `files: ${outcomes.length - bad.length} passed, ${bad.filter((o) => o.status === 'failed').length} failed, ${bad.filter((o) => o.status === 'timed out').length} timed out`,
  );
  for (const o of bad) {
    write(`${o.status === 'timed out' ? 'TIMED OUT' : 'FAILED'} ${o.file}`);
    for (const line of o.why) write(`    ${line}`);
  }
  // The last line, alone, for whoever reads the log: tests passed and failed across every file.
  write(`${passed} passed, ${failed} failed`);
  return { exitCode: bad.length > 0 ? 1 : 0, outcomes };
}

async function runFile(file: string, options: FileRunOptions): Promise<FileOutcome> {
  const started = Date.now();
  // Its own process group, so the timeout reaches the test file's process and whatever it spawned.
  // Without NODE_TEST_CONTEXT, which would make a runner inside a test report to that test instead.
  const { NODE_TEST_CONTEXT: _, ...env } = options.env;
  const child = spawn(process.execPath, ['--test', '--test-reporter=spec', file], {
    detached: true,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise((resolve) => child.on('close', resolve));
  running.add(child.pid!);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid!);
  }, options.timeoutMs);
  const code = await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      chunks.push(Buffer.from(`could not start node --test: ${error.message}\n`));
      resolve(1);
    });
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
  clearTimeout(timer);
  // The runner is done: anything of the file's still alive (a worker nobody stopped) goes too,
  // and the pipes it held close so the output below is complete.
  killGroup(child.pid!);
  running.delete(child.pid!);
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);

  const output = Buffer.concat(chunks).toString('utf8');
  const tests = { passed: count(output, 'pass'), failed: count(output, 'fail') };
  const ms = Date.now() - started;
  let status: FileOutcome['status'] = 'passed';
  if (timedOut) status = 'timed out';
  else if (code !== 0) status = 'failed';
  // A file that failed without a failing test (it crashed, or was killed) still counts as one.
  if (status !== 'passed' && tests.failed === 0) tests.failed = 1;
  options.out.write(`▶ ${file}\n${output}${output.endsWith('\n') || output === '' ? '' : '\n'}`);
  if (timedOut) options.out.write(`TIMED OUT ${file} after ${formatSeconds(options.timeoutMs)} s\n`);
  return { file, status, tests, ms, why: status === 'passed' ? [] : whyItFailed(output) };
}

const MOST_LINES_WHY = 40;

/**
 * The spec reporter's closing list of failing tests without stack frames, or for a file that
 * crashed or hung before the list, the last lines it printed.
 */
export function whyItFailed(output: string): string[] {
  const lines = output.trimEnd().split('\n');
  const list = lines.lastIndexOf('✖ failing tests:');
  const picked =
    list >= 0 ? lines.slice(list + 1).filter((line) => line.trim() !== '' && !/^\s+at /.test(line)) : lines.slice(-15);
  return picked.length > MOST_LINES_WHY
    ? [...picked.slice(0, MOST_LINES_WHY), `(${picked.length - MOST_LINES_WHY} more in its output above)`]
    : picked;
}

function count(output: string, label: 'pass' | 'fail'): number {
  const match = new RegExp(`^ℹ ${label} (\\d+)$`, 'm').exec(output);
  return match ? Number(match[1]) : 0;
}

function formatSeconds(ms: number): string {
  return Number.isInteger(ms / 1000) ? String(ms / 1000) : (ms / 1000).toFixed(1);
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}
