import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** A process's command name and its /proc stat fields after it; null once it has gone. */
function processStat(pid: number | string): { name: string; fields: string[] } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields are counted after its last ')'.
    const close = stat.lastIndexOf(')');
    return { name: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used, in ms, from /proc; null once it has gone. */
function cpuMs(pid: number): number | null {
  const stat = processStat(pid);
  return stat ? (Number(stat.fields[11]) + Number(stat.fields[12])) * TICK_MS : null;
}

/**
 * CPU time of the whole PostgreSQL server on this machine, in ms: every process named postgres,
 * with the time of children already reaped (a backend that served one connection and exited is
 * counted in the postmaster's). For phases whose backends come and go, such as verification's one
 * connection per range; other work on the server in the meantime is counted too.
 */
export function postgresServerCpuMs(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = processStat(entry);
    if (stat?.name !== 'postgres') continue;
    const [user, system, childrenUser, childrenSystem] = stat.fields.slice(11, 15).map(Number);
    total += (user! + system! + childrenUser! + childrenSystem!) * TICK_MS;
  }
  return total;
}

/** The processes this one started (the Temporal dev server among them). */
export function childPids(): number[] {
  const pids = new Set<number>();
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    try {
      const children = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim();
      for (const pid of children ? children.split(' ') : []) pids.add(Number(pid));
    } catch {
      // the thread ended while we looked
    }
  }
  return [...pids];
}

/** The server processes serving this pool's database, which hold the ledger's and the connector's work. */
async function backendPids(pool: pg.Pool): Promise<number[]> {
  const { rows } = await pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`,
  );
  return rows.map((row) => row.pid);
}

export interface CpuSpent {
  /** This process: clients, workers, the appender. */
  node: number;
  /** The Temporal dev server. */
  server: number;
  /** PostgreSQL backends of the bench database (a backend that closed mid-run is missed). */
  pg: number;
}

/** Where CPU goes during a phase: ms of CPU per process group, from start() to stop(). */
export class CpuMeter {
  private node = process.cpuUsage();
  private readonly before = new Map<number, number>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly serverPids: number[],
  ) {}

  async start(): Promise<void> {
    this.before.clear();
    for (const pid of [...this.serverPids, ...(await backendPids(this.pool))]) this.before.set(pid, cpuMs(pid) ?? 0);
    this.node = process.cpuUsage();
  }

  async stop(): Promise<CpuSpent> {
    const node = process.cpuUsage(this.node);
    const spent = (pid: number) => Math.max(0, (cpuMs(pid) ?? 0) - (this.before.get(pid) ?? 0));
    const backends = await backendPids(this.pool);
    return {
      node: (node.user + node.system) / 1000,
      server: this.serverPids.reduce((sum, pid) => sum + spent(pid), 0),
      pg: backends.reduce((sum, pid) => sum + spent(pid), 0),
    };
  }
}
