/**
 * Compose's topology, run natively on this machine: PostgreSQL made as the image's init scripts
 * make it, Temporal's schema by Compose's schema job, one or more Temporal server processes with
 * persistence and SQL visibility on PostgreSQL, the namespace and search attributes by Compose's
 * jobs, the Web UI server, `writ migrate` as the owner, workers as writ_worker (writ_writer only)
 * and `writ serve` as writ_serve. A cluster puts a TCP load balancer in front of its frontends.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { WritClient } from '../../../src/client.js';
import { findTemporalCli } from '../../../src/devserver/find-cli.js';
import type { TemporalBinaries } from '../../../src/devserver/temporal-binaries.js';
import { findTemporalBinaries } from '../../../src/devserver/temporal-binaries.js';
import { runWrit } from '../cli.js';
import type { WorkerProcess } from '../worker-process.js';
import { spawnWorker } from '../worker-process.js';
import type { ComposeSecrets } from './compose-init.js';
import { COMPOSE_POSTGRES_DB, COMPOSE_POSTGRES_USER, freshSecrets, initLikeComposeVolume } from './compose-init.js';
import type { UiServer } from './compose-jobs.js';
import { runComposeJob, startUiServer, toolDirs } from './compose-jobs.js';
import type { PgCluster } from './pg-cluster.js';
import { createPgCluster } from './pg-cluster.js';
import type { TcpBalancer } from './tcp-balancer.js';
import { startTcpBalancer } from './tcp-balancer.js';
import type { TemporalNode } from './temporal-node.js';
import { startTemporalNode } from './temporal-node.js';

export interface TopologyOptions {
  /** One loopback address per Temporal node (127.0.0.2, 127.0.0.3, ...). */
  nodeIps: string[];
  ui?: boolean;
  /** The policy and approver directory the workers load (files, as Compose mounts them). */
  policy: object;
  approvers: object;
  /** Extra addresses PostgreSQL listens on, and networks that may log in (a network namespace's). */
  postgresListen?: string[];
  postgresNetworks?: string[];
}

export interface Topology {
  binaries: TemporalBinaries;
  cluster: PgCluster;
  secrets: ComposeSecrets;
  nodes: TemporalNode[];
  balancer?: TcpBalancer;
  /** What clients and workers dial: the single node, or the balancer. */
  temporalAddress: string;
  ui?: UiServer;
  namespace: string;
  taskQueue: string;
  dir: string;
  urls: { owner: string; worker: string; checkpoint: string; serve: string; connector: string };
  workerEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** The checkpoint key's public half, as auditors get it (writ.pub). */
  verifierKey(): string;
  startWorker(extra?: NodeJS.ProcessEnv, prefix?: string[]): Promise<WorkerProcess>;
  client(): Promise<{ client: Client; writ: WritClient }>;
  startNode(ip: string): Promise<TemporalNode>;
  stop(): Promise<void>;
}

export function requireTemporalBinaries(): TemporalBinaries {
  const binaries = findTemporalBinaries();
  if (!binaries)
    throw new Error(
      'the Temporal server, SQL tool and UI server are not built: run `npm run temporal:server` (the test harness does)',
    );
  return binaries;
}

export async function startTopology(options: TopologyOptions): Promise<Topology> {
  const binaries = requireTemporalBinaries();
  const cli = findTemporalCli();
  if (!cli) throw new Error('no temporal CLI: run `npm run temporal:cli`');
  const secrets = freshSecrets();
  const variables: Record<string, string> = {
    ...secrets,
    WRIT_LINK_SECRET: 'x',
    WRIT_SLACK_SIGNING_SECRET: 'x',
    WRIT_OIDC_ISSUER: 'x',
    WRIT_OIDC_CLIENT_ID: 'x',
    WRIT_OIDC_CLIENT_SECRET: 'x',
  };
  const name = `${(process.env.WRIT_TEST_RUN ?? 'writ_topology').replace(/[^a-z0-9_]/gi, '_')}_${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'writ-topology-'));
  const stops: Array<() => Promise<void>> = [async () => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const step of stops.reverse())
      await step().catch((error: Error) => console.error(`topology teardown: ${error.message}`));
  };
  try {
    const cluster = await createPgCluster({
      name,
      ...(options.postgresListen ? { listen: options.postgresListen } : {}),
      ...(options.postgresNetworks ? { hostNetworks: options.postgresNetworks } : {}),
    });
    stops.push(() => cluster.drop());
    await initLikeComposeVolume(cluster, secrets);
    const tools = toolDirs(binaries, cli);
    await runComposeJob(
      'temporal-schema',
      'schema.sh',
      variables,
      { SQL_HOST: '127.0.0.1', SQL_PORT: String(cluster.port), TEMPORAL_SCHEMA_DIR: binaries.postgresSchema },
      tools,
    );
    const nodes: TemporalNode[] = [];
    const startNode = async (ip: string) => {
      const node = await startTemporalNode({
        serverBinary: binaries.server,
        ip,
        postgres: { host: '127.0.0.1', port: cluster.port },
        variables,
      });
      nodes.push(node);
      return node;
    };
    stops.push(async () => {
      for (const node of nodes) await node.stop();
    });
    for (const ip of options.nodeIps) await startNode(ip);
    let balancer: TcpBalancer | undefined;
    if (options.nodeIps.length > 1) {
      balancer = await startTcpBalancer(nodes.map((node) => node.address));
      stops.push(() => balancer!.close());
    }
    const temporalAddress = balancer?.address ?? nodes[0]!.address;
    const namespace = 'default';
    const jobEnv = { TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: namespace };
    await runComposeJob('temporal-namespace', 'namespace.sh', variables, jobEnv, tools);
    await runComposeJob('writ-search-attributes', 'search-attributes.sh', variables, jobEnv, tools);
    let ui: UiServer | undefined;
    if (options.ui) {
      ui = await startUiServer(binaries, temporalAddress, variables);
      stops.push(() => ui!.stop());
    }
    const urls = {
      owner: cluster.url(COMPOSE_POSTGRES_USER, secrets.POSTGRES_PASSWORD, COMPOSE_POSTGRES_DB),
      worker: cluster.url('writ_worker', secrets.WRIT_WORKER_DB_PASSWORD, COMPOSE_POSTGRES_DB),
      checkpoint: cluster.url('writ_checkpoint', secrets.WRIT_CHECKPOINT_DB_PASSWORD, COMPOSE_POSTGRES_DB),
      serve: cluster.url('writ_serve', secrets.WRIT_SERVE_DB_PASSWORD, COMPOSE_POSTGRES_DB),
      connector: cluster.url('writ_connector', secrets.WRIT_CONNECTOR_DB_PASSWORD, 'writ_targets'),
    };
    const migrated = await runWrit(['migrate'], { env: { DATABASE_URL: urls.owner } });
    if (migrated.code !== 0) throw new Error(`writ migrate as the owner failed: ${migrated.stderr}`);
    const keys = join(dir, 'keys');
    mkdirSync(keys);
    const keygen = await runWrit(['keygen', '--out', keys, '--name', 'writ']);
    if (keygen.code !== 0) throw new Error(`writ keygen failed: ${keygen.stderr}`);
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(options.policy));
    writeFileSync(join(dir, 'approvers.json'), JSON.stringify(options.approvers));
    const taskQueue = 'writ';
    const workerEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: namespace,
      WRIT_TASK_QUEUE: taskQueue,
      DATABASE_URL: urls.worker,
      WRIT_CHECKPOINT_DATABASE_URL: urls.checkpoint,
      WRIT_POSTGRES_CONNECTOR_URL: urls.connector,
      WRIT_POLICY_FILE: join(dir, 'policy.json'),
      WRIT_APPROVERS_FILE: join(dir, 'approvers.json'),
      WRIT_SIGNING_KEY: join(keys, 'writ.key'),
      WRIT_ANCHOR_DIR: join(dir, 'anchors'),
      ...extra,
    });
    const workers: WorkerProcess[] = [];
    stops.push(async () => {
      for (const worker of workers) await worker.stop();
    });
    const connections: Connection[] = [];
    stops.push(async () => {
      for (const connection of connections) await connection.close();
    });
    return {
      binaries,
      cluster,
      secrets,
      nodes,
      ...(balancer ? { balancer } : {}),
      temporalAddress,
      ...(ui ? { ui } : {}),
      namespace,
      taskQueue,
      dir,
      urls,
      workerEnv,
      verifierKey: () => readFileSync(join(keys, 'writ.pub'), 'utf8').trim(),
      async startWorker(extra = {}, prefix = []) {
        const worker = await spawnWorker(workerEnv(extra), prefix);
        workers.push(worker);
        return worker;
      },
      async client() {
        const connection = await Connection.connect({ address: temporalAddress });
        connections.push(connection);
        const client = new Client({ connection, namespace });
        return { client, writ: new WritClient(client, { taskQueue }) };
      },
      startNode,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
