/**
 * One Temporal server process (all four services), started natively the way the
 * temporalio/server image starts it: `temporal-server start` with no config directory, so the
 * server renders its embedded config template from the environment Compose gives the `temporal`
 * service. Only what a host differs in from a container is changed: addresses, ports, file paths.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { REPO_ROOT } from '../cli.js';
import { composeService, serviceEnvironment } from '../compose-file.js';

export interface TemporalNode {
  ip: string;
  address: string;
  output: () => string;
  /** SIGKILL: a node lost, as a crashed host loses it. */
  kill(): Promise<void>;
  stop(): Promise<void>;
  exited: Promise<void>;
}

export interface TemporalNodeOptions {
  serverBinary: string;
  ip: string;
  postgres: { host: string; port: number };
  /** The .env values Compose interpolates into the service (TEMPORAL_DB_PASSWORD, ...). */
  variables: Record<string, string>;
  log?: (line: string) => void;
}

const FRONTEND_PORT = 7233;

/** The `temporal` service's environment from docker-compose.yml, with the host's addresses. */
export function nodeEnvironment(options: TemporalNodeOptions): Record<string, string> {
  const service = composeService(
    readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'),
    'temporal',
    options.variables,
  );
  const env = serviceEnvironment(service);
  const containerDynamicConfig = env.DYNAMIC_CONFIG_FILE_PATH ?? '';
  return {
    ...env,
    POSTGRES_SEEDS: options.postgres.host,
    DB_PORT: String(options.postgres.port),
    POSTGRES_PORT: String(options.postgres.port),
    // Compose binds 0.0.0.0 and the image's entrypoint broadcasts the container's address; a
    // host running several nodes binds each to its own address instead.
    BIND_ON_IP: options.ip,
    DYNAMIC_CONFIG_FILE_PATH: containerDynamicConfig.replace(
      '/etc/temporal/config/dynamicconfig',
      join(REPO_ROOT, 'deploy', 'temporal', 'dynamicconfig'),
    ),
  };
}

export async function startTemporalNode(options: TemporalNodeOptions): Promise<TemporalNode> {
  const cwd = mkdtempSync(join(tmpdir(), 'writ-temporal-node-'));
  const child: ChildProcess = spawn(options.serverBinary, ['start'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, ...nodeEnvironment(options) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 400_000) output = output.slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = `${options.ip}:${FRONTEND_PORT}`;
  const node: TemporalNode = {
    ip: options.ip,
    address,
    output: () => output,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(hard);
      rmSync(cwd, { recursive: true, force: true });
    },
  };
  try {
    await waitForFrontend(address, exited, () => output);
  } catch (error) {
    await node.kill();
    throw error;
  }
  return node;
}

async function waitForFrontend(address: string, exited: Promise<void>, output: () => string): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (gone) throw new Error(`temporal-server at ${address} exited while starting:\n${output().slice(-4000)}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2s' });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(
          `temporal-server at ${address} did not answer within 120 s: ${(error as Error).message}\n${output().slice(-4000)}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
