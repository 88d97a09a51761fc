import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../support/cli.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** A long-running `writ` command (demo --keep, dev) as a child process, read as it prints. */
export interface WritProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when `test` holds for stdout, rejects if the process ends first or time runs out. */
  waitFor(test: (stdout: string) => boolean, timeoutMs?: number): Promise<void>;
  /** Sends the signal (if still running) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startWrit(args: string[], env: NodeJS.ProcessEnv = {}): WritProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let ended = false;
  void exited.then(() => (ended = true));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitFor(test, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (!test(out)) {
        if (ended) throw new Error(`writ ${args.join(' ')} exited before it was ready:\n${out}\n${err}`);
        if (Date.now() > deadline)
          throw new Error(`writ ${args.join(' ')} was not ready within ${timeoutMs / 1000} s:\n${out}\n${err}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop(signal = 'SIGINT') {
      if (!ended) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/**
 * The demo's --json summary: the last stdout line that is a JSON object (the Temporal CLI prints its
 * banner there too).
 */
export function summaryOf(stdout: string): DemoSummary | null {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  return line ? (JSON.parse(line) as DemoSummary) : null;
}

export interface DemoSummary {
  ok: boolean;
  error?: string;
  database: { source: string; name: string; url: string; embeddedDir: string | null };
  workDir: string;
  filesRoot: string;
  verifierKey: string;
  temporal: { address: string; webUi: string; taskQueue: string };
  serve: { url: string };
  chapters: Array<{
    number: number;
    title: string;
    ok: boolean;
    operationId?: string;
    outcome?: string;
    [fact: string]: unknown;
  }>;
  links: Record<string, { chapter: number; webUi: string; timeline: string; csv: string; json: string }>;
}

/** True when something accepts TCP connections at host:port. */
export async function answers(address: string): Promise<boolean> {
  const { hostname, port } = new URL(address.includes('://') ? address : `tcp://${address}`);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The variables a `writ demo` or `writ dev` tells the user to export, read from its own output. */
export function exportedEnv(output: string): Record<string, string> {
  const lines = output.slice(output.search(/^\s*export [A-Z]/m)).split('\n');
  const block = lines.slice(0, lines.findIndex((line) => !line.trimEnd().endsWith('\\')) + 1).join(' ');
  const env: Record<string, string> = {};
  for (const match of block.matchAll(/([A-Z_]+)=(?:'([^']*)'|(\S+))/g)) env[match[1]!] = match[2] ?? match[3]!;
  return env;
}
