import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './cli.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface ServeProcess {
  url: string;
  /** Everything it printed, the banner included. */
  output(): string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** `writ serve` as a child process on a free port, logged in with `databaseUrl`, Slack off. */
export async function spawnServe(
  databaseUrl: string,
  linkSecret: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      WRIT_LINK_SECRET: linkSecret,
      WRIT_SLACK_SIGNING_SECRET: '',
      WRIT_PUBLIC_URL: '',
      ...env,
    },
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      // The banner may arrive in several chunks: wait for its last line.
      const found = /writ serve on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (found && /\n {2}Slack: .*\n/.test(output)) resolve(found[1]!);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => reject(new Error(`writ serve exited early (${code}):\n${output}`)));
  });
  return {
    url,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
