import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface WorkerChild {
  pid: number;
  output: () => string;
  /** SIGTERM (a graceful stop), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** `writ worker` in a process of its own, as an operator runs it, so its resident set is its own. */
export function spawnWritWorker(env: NodeJS.ProcessEnv, readyWithinMs = 60_000): Promise<WorkerChild> {
  const child = spawn(process.execPath, [CLI, 'worker'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => (output += chunk.toString());
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle: WorkerChild = {
    pid: child.pid!,
    output: () => output,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(kill);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void handle.stop(0);
      reject(new Error(`writ worker not ready within ${readyWithinMs} ms:\n${output}`));
    }, readyWithinMs);
    child.stdout.on('data', () => {
      if (!output.includes('writ worker on task queue')) return;
      clearTimeout(timer);
      resolve(handle);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`writ worker exited early:\n${output}`));
    });
  });
}
