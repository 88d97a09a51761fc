import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './cli.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code or signal when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
  /** SIGKILL: the process dies mid-work, as a crashed host's would. */
  kill(): Promise<void>;
}

/** `writ worker` as a real child process, the way an operator runs it. */
export function spawnWorker(env: NodeJS.ProcessEnv, prefix: string[] = []): Promise<WorkerProcess> {
  // A prefix runs it elsewhere, e.g. `ip netns exec <name>` (a host of its own on a test network).
  const argv = [...prefix, process.execPath, CLI, 'worker'];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const handle: WorkerProcess = {
    child,
    output: () => output,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      // A worker whose activities still retry (its test's database already dropped) would wait for
      // them for ever on a graceful stop, and hold the whole run with it: it gets 10 s, then SIGKILL.
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
    },
  };
  return new Promise((resolve, reject) => {
    const started = () => {
      if (output.includes('writ worker on task queue')) {
        child.stdout!.off('data', started);
        resolve(handle);
      }
    };
    child.stdout!.on('data', started);
    void exited.then(({ code, signal }) =>
      reject(new Error(`writ worker exited early (${code ?? signal}):\n${output}`)),
    );
  });
}
