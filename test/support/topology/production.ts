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
import { nodesSaying } from './stall-report.js';
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

/** Teardown steps, run in reverse order of setup whatever fails. */
class Teardown {
  private readonly steps: Array<() => Promise<void>> = [];
  add(step: () => Promise<void>): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.reverse())
      await step().catch((error: Error) => console.error(`topology teardown: ${error.message}`));
  }
}

interface Setup {
  binaries: TemporalBinaries;
  tools: string[];
  secrets: ComposeSecrets;
  /** What Compose interpolates into the services: the .env secrets, placeholders for the rest. */
  variables: Record<string, string>;
  dir: string;
  teardown: Teardown;
}

/** PostgreSQL as the image's first start makes it, then Temporal's schema by Compose's job. */
async function provisionPostgres(options: TopologyOptions, setup: Setup): Promise<PgCluster> {
  const name = `${(process.env.WRIT_TEST_RUN ?? 'writ_topology').replace(/[^a-z0-9_]/gi, '_')}_${randomBytes(3).toString('hex')}`;
  const cluster = await createPgCluster({
    name,
    ...(options.postgresListen ? { listen: options.postgresListen } : {}),
    ...(options.postgresNetworks ? { hostNetworks: options.postgresNetworks } : {}),
  });
  setup.teardown.add(() => cluster.drop());
  await initLikeComposeVolume(cluster, setup.secrets);
  await runComposeJob(
    'temporal-schema',
    'schema.sh',
    setup.variables,
    { SQL_HOST: '127.0.0.1', SQL_PORT: String(cluster.port), TEMPORAL_SCHEMA_DIR: setup.binaries.postgresSchema },
    setup.tools,
  );
  return cluster;
}

/** The server nodes, a balancer when there are several, the namespace and attributes, the UI. */
async function startTemporal(options: TopologyOptions, setup: Setup, cluster: PgCluster) {
  const nodes: TemporalNode[] = [];
  const startNode = async (ip: string) => {
    const postgres = { host: '127.0.0.1', port: cluster.port };
    const node = await startTemporalNode({
      serverBinary: setup.binaries.server,
      ip,
      postgres,
      variables: setup.variables,
    });
    nodes.push(node);
    return node;
  };
  setup.teardown.add(async () => {
    for (const node of nodes) await node.stop();
  });
  for (const ip of options.nodeIps) await startNode(ip);
  let balancer: TcpBalancer | undefined;
  if (options.nodeIps.length > 1) {
    balancer = await startTcpBalancer(nodes.map((node) => node.address));
    setup.teardown.add(() => balancer!.close());
  }
  const temporalAddress = balancer?.address ?? nodes[0]!.address;
  const jobEnv = { TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: NAMESPACE };
  const job = async (service: 'temporal-namespace' | 'writ-search-attributes', script: string) => {
    try {
      await runComposeJob(service, script, setup.variables, jobEnv, setup.tools);
    } catch (error) {
      // A job fails on what some node answered: what the nodes said about namespaces names which one.
      const said = nodesSaying(nodes, /"level":"(?:warn|error)".*amespace/, `topology-${service}`);
      throw new Error(`${(error as Error).message}\n${said}`, { cause: error });
    }
  };
  await job('temporal-namespace', 'namespace.sh');
  await job('writ-search-attributes', 'search-attributes.sh');
  let ui: UiServer | undefined;
  if (options.ui) {
    ui = await startUiServer(setup.binaries, temporalAddress, setup.variables);
    setup.teardown.add(() => ui!.stop());
  }
  return { nodes, startNode, temporalAddress, ...(balancer ? { balancer } : {}), ...(ui ? { ui } : {}) };
}

/** `writ migrate` as the owner, a signing key, the policy and directory files the workers load. */
async function prepareWrit(options: TopologyOptions, setup: Setup, cluster: PgCluster) {
  const { secrets, dir } = setup;
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
  return { urls, keys };
}

const NAMESPACE = 'default';
const TASK_QUEUE = 'writ';

export async function startTopology(options: TopologyOptions): Promise<Topology> {
  const binaries = requireTemporalBinaries();
  const cli = findTemporalCli();
  if (!cli) throw new Error('no temporal CLI: run `npm run temporal:cli`');
  const secrets = freshSecrets();
  // Compose requires these of writ-serve, which the topology starts itself: any value interpolates.
  const servePlaceholders = [
    'WRIT_LINK_SECRET',
    'WRIT_SLACK_SIGNING_SECRET',
    'WRIT_OIDC_ISSUER',
    'WRIT_OIDC_CLIENT_ID',
    'WRIT_OIDC_CLIENT_SECRET',
  ];
  const setup: Setup = {
    binaries,
    tools: toolDirs(binaries, cli),
    secrets,
    variables: {
      ...secrets,
      ...Object.fromEntries(servePlaceholders.map((name) => [name, 'x'])),
    },
    dir: mkdtempSync(join(tmpdir(), 'writ-topology-')),
    teardown: new Teardown(),
  };
  setup.teardown.add(async () => rmSync(setup.dir, { recursive: true, force: true }));
  try {
    const cluster = await provisionPostgres(options, setup);
    const temporal = await startTemporal(options, setup, cluster);
    const { urls, keys } = await prepareWrit(options, setup, cluster);
    return topologyHandle(setup, cluster, temporal, urls, keys);
  } catch (error) {
    await setup.teardown.run();
    throw error;
  }
}

function topologyHandle(
  setup: Setup,
  cluster: PgCluster,
  temporal: Awaited<ReturnType<typeof startTemporal>>,
  urls: Topology['urls'],
  keys: string,
): Topology {
  const { dir, teardown } = setup;
  const workerEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    TEMPORAL_ADDRESS: temporal.temporalAddress,
    TEMPORAL_NAMESPACE: NAMESPACE,
    WRIT_TASK_QUEUE: TASK_QUEUE,
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
  teardown.add(async () => {
    for (const worker of workers) await worker.stop();
  });
  const connections: Connection[] = [];
  teardown.add(async () => {
    for (const connection of connections) await connection.close();
  });
  return {
    binaries: setup.binaries,
    cluster,
    secrets: setup.secrets,
    ...temporal,
    namespace: NAMESPACE,
    taskQueue: TASK_QUEUE,
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
      const connection = await Connection.connect({ address: temporal.temporalAddress });
      connections.push(connection);
      const client = new Client({ connection, namespace: NAMESPACE });
      return { client, writ: new WritClient(client, { taskQueue: TASK_QUEUE }) };
    },
    stop: () => teardown.run(),
  };
}
