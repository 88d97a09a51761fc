/**
 * A host of its own for a worker: a network namespace joined to this one by two veth pairs, one
 * carrying Temporal's traffic and one PostgreSQL's, so the PostgreSQL link alone can be cut. The
 * cut takes the host's end of that link down: the worker's end keeps its address and route and
 * its packets vanish (a veth drops what it cannot deliver), so to the worker it looks like a dead
 * switch port, silence with no resets, which is what pool timeouts exist for.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args);
  } catch (error) {
    throw new Error(
      `ip ${args.join(' ')}: ${String((error as { stderr?: unknown }).stderr ?? (error as Error).message).trim()}`,
      {
        cause: error,
      },
    );
  }
}

export interface WorkerHost {
  name: string;
  /** The host side's addresses, which the worker dials. */
  temporalGateway: string;
  postgresGateway: string;
  /** Networks PostgreSQL must accept the worker from. */
  postgresNetwork: string;
  /** argv prefix that runs a command inside the namespace. */
  exec: string[];
  cutPostgres(): Promise<void>;
  restorePostgres(): Promise<void>;
  remove(): Promise<void>;
}

/** Null when this machine cannot make namespaces (not root, no iproute2): the caller skips. */
export async function networkNamespaceUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    await run('ip', ['netns', 'list']);
    return null;
  } catch (error) {
    return `no ip netns here: ${(error as Error).message}`;
  }
}

export async function createWorkerHost(): Promise<WorkerHost> {
  const id = randomBytes(3).toString('hex');
  const name = `writ-${id}`;
  const octet = randomBytes(1)[0]!;
  const t = { host: `wt${id}a`, ns: `wt${id}b`, hostIp: `10.231.${octet}.1`, nsIp: `10.231.${octet}.2` };
  const p = { host: `wp${id}a`, ns: `wp${id}b`, hostIp: `10.232.${octet}.1`, nsIp: `10.232.${octet}.2` };
  await ip('netns', 'add', name);
  const inNs = (...args: string[]) => ip('netns', 'exec', name, 'ip', ...args);
  const remove = async () => {
    await ip('link', 'del', t.host).catch(() => undefined);
    await ip('link', 'del', p.host).catch(() => undefined);
    await ip('netns', 'del', name).catch(() => undefined);
  };
  try {
    await inNs('link', 'set', 'lo', 'up');
    for (const pair of [t, p]) {
      await ip('link', 'add', pair.host, 'type', 'veth', 'peer', 'name', pair.ns);
      await ip('link', 'set', pair.ns, 'netns', name);
      await ip('addr', 'add', `${pair.hostIp}/30`, 'dev', pair.host);
      await ip('link', 'set', pair.host, 'up');
      await inNs('addr', 'add', `${pair.nsIp}/30`, 'dev', pair.ns);
      await inNs('link', 'set', pair.ns, 'up');
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    name,
    temporalGateway: t.hostIp,
    postgresGateway: p.hostIp,
    postgresNetwork: `10.232.${octet}.0/30`,
    exec: ['ip', 'netns', 'exec', name],
    cutPostgres: () => ip('link', 'set', p.host, 'down'),
    restorePostgres: () => ip('link', 'set', p.host, 'up'),
    remove,
  };
}
