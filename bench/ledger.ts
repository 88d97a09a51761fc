/**
 * P1: group-commit appends from 64 concurrent callers vs raw batched INSERTs of the same bytes
 *     into a plain table (no trigger, no chain), same database, same run.
 * (`ledger-p1` runs P1 alone.)
 * P2: full verification of 200,000 stored records read from PostgreSQL vs raw SHA-256 over the
 *     same canonical bytes already in memory (bench/ledger-verify.ts; `ledger-p2` runs it alone).
 */
import { performance } from 'node:perf_hooks';
import { createPool } from '../src/db/pool.js';
import { GroupCommitAppender } from '../src/ledger/appender.js';
import type { RecordDraft } from '../src/ledger/record.js';
import { prepareRecord } from '../src/ledger/record.js';
import { benchVerify } from './ledger-verify.js';
import { log, perSecond, ratio, withBenchDatabase } from './support.js';
import { postgresServerCpuMs } from './cpu.js';

const CALLERS = 64;

export function draft(i: number): RecordDraft {
  return {
    type: 'step.executed',
    operationId: `op-${Math.floor(i / 8)}`,
    correlationId: '4bf92f3577b34da6a3ce929d0e0e4736',
    stepIndex: i % 8,
    state: 'executed',
    actor: { id: 'svc-sync', kind: 'service', groups: ['automation'] },
    idempotencyKey: `bench/${i}`,
    payload: { target: `crm/accounts/${i}`, before: { tier: 'silver' }, after: { tier: 'gold' } },
  };
}

export async function benchLedger(
  options: { p1Records?: number; p2Records?: number; p1Only?: boolean } = {},
): Promise<Record<string, number>> {
  const p1Records = options.p1Records ?? 40_000;
  const p2Records = options.p2Records ?? 200_000;
  return withBenchDatabase(async (url) => {
    const pool = createPool(url, { max: 12, applicationName: 'writ-bench' });
    try {
      await pool.query(
        'CREATE TABLE bench_plain (id bigserial PRIMARY KEY, canonical bytea NOT NULL, record jsonb NOT NULL)',
      );

      // P1 baseline: the same canonical bytes, batched INSERTs with no chain, no trigger, no validation.
      const rawBatch = 512;
      const prepared = Array.from(
        { length: p1Records },
        (_, i) => prepareRecord({ ...draft(i), idempotencyKey: `raw/${i}` }).canonical,
      );
      // The whole server's CPU (backends, WAL writer, checkpointer): counting the pool's backends
      // missed those that closed or opened during the run.
      let cpu = startCpu();
      let start = performance.now();
      for (let offset = 0; offset < prepared.length; offset += rawBatch) {
        await pool.query(
          `INSERT INTO bench_plain (canonical, record) SELECT c, convert_from(c, 'UTF8')::jsonb FROM unnest($1::bytea[]) AS c`,
          [prepared.slice(offset, offset + rawBatch)],
        );
      }
      const rawMs = performance.now() - start;
      const rawCpu = perRecord(cpu(), p1Records);
      const rawPerSecond = perSecond(p1Records, rawMs);
      log(`P1 baseline: raw batched INSERT, ${p1Records} rows in ${rawMs.toFixed(0)} ms = ${rawPerSecond}/s`);

      let batches = 0;
      const appender = new GroupCommitAppender(pool, { onBatch: () => batches++ });
      let next = 0;
      cpu = startCpu();
      start = performance.now();
      await Promise.all(
        Array.from({ length: CALLERS }, async () => {
          for (let i = next++; i < p1Records; i = next++) await appender.append(draft(i));
        }),
      );
      const appendMs = performance.now() - start;
      const appendCpu = perRecord(cpu(), p1Records);
      const appendPerSecond = perSecond(p1Records, appendMs);
      log(
        `P1 CPU per record: writ node ${appendCpu.node} µs, pg ${appendCpu.pg} µs; raw INSERT node ${rawCpu.node} µs, pg ${rawCpu.pg} µs`,
      );
      log(
        `P1 writ: ${CALLERS} callers through group commit, ${p1Records} records in ${appendMs.toFixed(0)} ms = ${appendPerSecond}/s (${batches} batches, ${(p1Records / batches).toFixed(1)} records/batch)`,
      );

      const p2 = options.p1Only ? {} : await benchVerify(pool, draft, p1Records, p2Records);

      return {
        p1_records: p1Records,
        p1_records_per_s: appendPerSecond,
        p1_baseline_records_per_s: rawPerSecond,
        p1_ratio: ratio(appendPerSecond, rawPerSecond),
        p1_records_per_batch: Math.round((p1Records / batches) * 10) / 10,
        // CPU per record varies less with what else the machine runs than records per second do.
        p1_node_cpu_us_per_record: appendCpu.node,
        p1_pg_cpu_us_per_record: appendCpu.pg,
        p1_baseline_node_cpu_us_per_record: rawCpu.node,
        p1_baseline_pg_cpu_us_per_record: rawCpu.pg,
        ...p2,
      };
    } finally {
      await pool.end();
    }
  });
}

interface CpuSpent {
  node: number;
  pg: number;
}

/** Starts counting this process's and the PostgreSQL server's CPU; the function returns ms of each so far. */
function startCpu(): () => CpuSpent {
  const node = process.cpuUsage();
  const pg = postgresServerCpuMs();
  return () => {
    const spent = process.cpuUsage(node);
    return { node: (spent.user + spent.system) / 1000, pg: postgresServerCpuMs() - pg };
  };
}

function perRecord(spent: CpuSpent, records: number): { node: number; pg: number } {
  const micros = (ms: number) => Math.round((ms * 1000) / records);
  return { node: micros(spent.node), pg: micros(spent.pg) };
}
