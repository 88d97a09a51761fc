import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServerProcessOptions {
  /** How errors name the server: "the Temporal dev server", "versitygw". */
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Where it is waited on, as errors give it (127.0.0.1:port). */
  address: string;
  /** Whether it answers yet; asked every 100 ms until it does or the deadline passes. */
  answers: () => Promise<boolean>;
  startupTimeoutMs: number;
  /** The server's stdout goes to ours (the dev server's banner) or nowhere. */
  stdout: 'inherit' | 'ignore';
  /** Whether its stderr is echoed to ours; its last lines are kept for errors either way. */
  echoStderr: boolean;
  /** Stopping sends SIGTERM and waits this long for the server to go before SIGKILL; 0 kills at once. */
  stopGraceMs: number;
}

export interface ServerProcess {
  /** Stops the server and waits for its process to be gone; safe to call twice. */
  stop(): Promise<void>;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const STDERR_TAIL_CHARS = 4000;
const POLL_MS = 100;

/**
 * Runs a local server and resolves once it answers. A server that cannot be run, or exits before it
 * answers (its port taken, say), fails at once with its exit and the last lines it printed; one
 * that never answers is stopped at the deadline, and the error says so. Until it is stopped, a
 * process exit kills it, so that no test or demo leaves a server holding its ports.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const { name, address } = options;
  const child = spawn(options.command, options.args, {
    stdio: ['ignore', options.stdout, 'pipe'],
    ...(options.env ? { env: options.env } : {}),
  });
  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (options.echoStderr) process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  let exit: Exit | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      spawnError = error;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const gone = () => exit !== undefined || spawnError !== undefined;
  const stop = async () => {
    process.off('exit', killOnExit);
    if (!gone() && options.stopGraceMs > 0) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(options.stopGraceMs, undefined, { ref: false })]);
    }
    if (!gone()) child.kill('SIGKILL');
    await exited;
  };
  const printed = () => (stderrTail.trim() ? `; what it printed last:\n${stderrTail.trim()}` : '');

  const deadline = Date.now() + options.startupTimeoutMs;
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(`could not run ${name} (${options.command}): ${spawnError.message}`);
    }
    if (exit) {
      await stop();
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      throw new Error(`${name} ${how} before it answered on ${address}${printed()}`);
    }
    if (await options.answers()) return { stop };
    if (Date.now() >= deadline) {
      await stop();
      throw new Error(
        `${name} did not answer on ${address} within ${options.startupTimeoutMs / 1000} s and was stopped${printed()}`,
      );
    }
    await sleep(POLL_MS);
  }
}
