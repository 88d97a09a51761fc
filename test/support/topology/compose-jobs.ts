/**
 * Compose's one-shot jobs and the Web UI, natively: the same scripts (deploy/temporal/jobs, which
 * Compose mounts into admin-tools) and the same environment, with the host's addresses and the
 * natively built binaries on PATH where the admin-tools image has its own.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TemporalBinaries } from '../../../src/devserver/temporal-binaries.js';
import { freePort } from '../../../src/net/ports.js';
import { REPO_ROOT, runCommand } from '../cli.js';
import { composeService, serviceEnvironment } from '../compose-file.js';

const composeText = () => readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');

export async function runComposeJob(
  service: 'temporal-schema' | 'temporal-namespace' | 'writ-search-attributes',
  script: string,
  variables: Record<string, string>,
  hostEnv: Record<string, string>,
  toolDirs: string[],
): Promise<string> {
  const env = {
    ...serviceEnvironment(composeService(composeText(), service, variables)),
    ...hostEnv,
    PATH: [...toolDirs, process.env.PATH ?? ''].join(':'),
  };
  const result = await runCommand('/bin/sh', [join(REPO_ROOT, 'deploy', 'temporal', 'jobs', script)], { env });
  if (result.code !== 0) throw new Error(`${service} (${script}) failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** admin-tools calls the SQL tool temporal-sql-tool; the native build has that name too. */
export function toolDirs(binaries: TemporalBinaries, temporalCli: string): string[] {
  return [dirname(binaries.sqlTool), dirname(temporalCli)];
}

export interface UiServer {
  url: string;
  stop(): Promise<void>;
}

/** The temporalio/ui image's entrypoint (`ui-server --env docker start`) with Compose's environment. */
export async function startUiServer(
  binaries: TemporalBinaries,
  temporalAddress: string,
  variables: Record<string, string>,
): Promise<UiServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...serviceEnvironment(composeService(composeText(), 'temporal-ui', variables)),
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_UI_PORT: String(port),
    TEMPORAL_CORS_ORIGINS: url,
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
  };
  const child: ChildProcess = spawn(binaries.uiServer, ['--root', binaries.uiRoot, '--env', 'docker', 'start'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the UI server exited: ${output}`);
    const healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })
      .then((response) => response.ok)
      .catch(() => false);
    if (healthy) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the UI server at ${url} is not healthy after 30 s: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
