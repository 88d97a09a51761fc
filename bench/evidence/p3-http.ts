/**
 * P3 where people meet it: `writ serve` started as production runs it (its own process, the
 * `writ_serve` login holding only `writ_reader` and `writ_access_recorder`), asked over HTTP
 * keep-alive, one request at a time, for `/evidence/what-happened.json` behind a signed link, for
 * random operation ids and correlation ids. Each answer includes the access record serve appends
 * before sending. Baseline from the same run, interleaved in random order: `GET /healthz` of the
 * same server over the same connection, which costs the HTTP round trip and nothing of the ledger.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type pg from 'pg';
import { ensureLogins, urlAs } from '../../src/db/logins.js';
import { signedUrl } from '../../src/serve/signed-links.js';
import { spawnServe } from '../../test/support/serve-process.js';
import { ADMIN_URL, log, ratio } from '../support.js';
import type { EvidenceFixture } from './fixture.js';
import { Rng } from './random.js';
import { latency, sampleIds, shuffle, timed } from './sample.js';

const SAMPLES = 1000;
const WARMUP = 50;

type Kind = 'baseline' | 'operation' | 'correlation';

export async function benchWhatHappenedHttp(pool: pg.Pool, fixture: EvidenceFixture): Promise<Record<string, number>> {
  const rng = new Rng(7);
  const ids = await sampleIds(pool, fixture.records, 2 * (SAMPLES + WARMUP), rng, [fixture.largeTrace.id]);
  const samples = Math.min(SAMPLES, Math.floor(ids.length / 2) - WARMUP);
  if (samples < 100)
    throw new Error(`only ${ids.length} operations in distinct traces were found; use a larger --records`);
  await ensureLogins(ADMIN_URL);
  const secret = randomBytes(32).toString('hex');
  const serve = await spawnServe(urlAs(fixture.url, 'serve'), secret);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const expires = Math.floor(Date.now() / 1000) + 3600;
  const link = (id: string) => signedUrl(serve.url, secret, { format: 'json', id, requester: 'writ-bench', expires });
  const latencies: Record<Kind, number[]> = { baseline: [], operation: [], correlation: [] };
  try {
    const ask = async (kind: Kind, id: string, into: number[]) => {
      const url = kind === 'baseline' ? `${serve.url}/healthz` : link(id);
      const { status, body } = await timed(into, () => get(agent, url));
      if (status !== 200) throw new Error(`GET ${url} answered ${status}: ${body.slice(0, 300)}`);
      if (kind !== 'baseline' && !body.includes(id)) throw new Error(`the answer for ${id} does not name it`);
    };
    const round = () =>
      (['baseline', 'operation', 'correlation'] as Kind[]).map((kind) => {
        const sampled = kind === 'baseline' ? undefined : ids.pop()!;
        return { kind, id: kind === 'correlation' ? sampled!.correlationId : (sampled?.operationId ?? '') };
      });
    for (const { kind, id } of Array.from({ length: WARMUP }, round).flat()) await ask(kind, id, []);
    for (const { kind, id } of shuffle(Array.from({ length: samples }, round).flat(), rng))
      await ask(kind, id, latencies[kind]);
  } finally {
    agent.destroy();
    const code = await serve.stop();
    if (code !== 0) log(`P3 http: writ serve exited with ${code}:\n${serve.output()}`);
  }
  return figures(latencies);
}

function figures(latencies: Record<Kind, number[]>): Record<string, number> {
  const base = latency(latencies.baseline);
  const op = latency(latencies.operation);
  const corr = latency(latencies.correlation);
  const all = latency([...latencies.operation, ...latencies.correlation]);
  log(
    `P3 over HTTP (writ serve, keep-alive): GET /healthz p50 ${base.p50} ms, p99 ${base.p99} ms | what-happened.json <operation id> p50 ${op.p50} ms, p99 ${op.p99} ms | <correlation id> p50 ${corr.p50} ms, p99 ${corr.p99} ms | both p50 ${all.p50} ms, p99 ${all.p99} ms, max ${all.max} ms (${latencies.operation.length + latencies.correlation.length} requests)`,
  );
  return {
    p3_http_samples: latencies.operation.length + latencies.correlation.length,
    p3_http_p50_ms: all.p50,
    p3_http_p99_ms: all.p99,
    p3_http_operation_p99_ms: op.p99,
    p3_http_correlation_p99_ms: corr.p99,
    p3_http_baseline_p50_ms: base.p50,
    p3_http_baseline_p99_ms: base.p99,
    p3_http_ratio_p50: ratio(all.p50, base.p50),
    p3_http_ratio_p99: ratio(all.p99, base.p99),
  };
}

/** One GET on the keep-alive agent, the body read whole: what a person's browser or curl waits for. */
function get(agent: http.Agent, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.on('error', reject);
      })
      .on('error', reject);
  });
}
