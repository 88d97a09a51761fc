/**
 * P3 where people meet it: `writ serve` started as production runs it (its own process, the
 * `writ_serve` login holding only `writ_reader` and `writ_access_recorder`), asked over HTTP
 * keep-alive, one request at a time, for `/evidence/what-happened.json` behind a signed link, for
 * random operation ids and correlation ids. Each answer includes the access record serve appends
 * before sending. Baseline from the same run, interleaved in random order: `GET /healthz` of the
 * same server over the same connection, which costs the HTTP round trip and nothing of the ledger.
 * Then what the busy loop hides: a question after a quiet spell, and a new server's first answer.
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
/** Fresh `writ serve` processes whose first what-happened is timed. */
const FIRST_ANSWERS = 3;
/** Longer than pg's default idle timeout (10 s), after which it closes a pool's connection. */
const QUIET_SPELL_MS = 11_000;
const QUIET_SPELLS = 3;

type Kind = 'baseline' | 'operation' | 'correlation';
type Series = Kind | 'afterQuiet' | 'first';

export async function benchWhatHappenedHttp(pool: pg.Pool, fixture: EvidenceFixture): Promise<Record<string, number>> {
  const rng = new Rng(7);
  const singles = QUIET_SPELLS + FIRST_ANSWERS;
  const ids = await sampleIds(pool, fixture.records, 2 * (SAMPLES + WARMUP) + singles, rng, [fixture.largeTrace.id]);
  const samples = Math.min(SAMPLES, Math.floor((ids.length - singles) / 2) - WARMUP);
  if (samples < 100)
    throw new Error(`only ${ids.length} operations in distinct traces were found; use a larger --records`);
  await ensureLogins(ADMIN_URL);
  const secret = randomBytes(32).toString('hex');
  const serve = await spawnServe(urlAs(fixture.url, 'serve'), secret);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const link = (id: string) => jsonLink(serve.url, secret, id);
  const latencies: Record<Series, number[]> = {
    baseline: [],
    operation: [],
    correlation: [],
    afterQuiet: [],
    first: [],
  };
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
    // What a person meets who asks when nobody has for a while.
    for (let spell = 0; spell < QUIET_SPELLS; spell++) {
      await new Promise((resolve) => setTimeout(resolve, QUIET_SPELL_MS));
      await ask('correlation', ids.pop()!.correlationId, latencies.afterQuiet);
    }
  } finally {
    agent.destroy();
    const code = await serve.stop();
    if (code !== 0) log(`P3 http: writ serve exited with ${code}:\n${serve.output()}`);
  }
  for (let start = 0; start < FIRST_ANSWERS; start++)
    latencies.first.push(await firstAnswer(fixture, secret, ids.pop()!.correlationId));
  return figures(latencies);
}

/** A link to what-happened.json for `id`, valid for an hour. */
function jsonLink(serveUrl: string, secret: string, id: string): string {
  const expires = Math.floor(Date.now() / 1000) + 3600;
  return signedUrl(serveUrl, secret, { format: 'json', id, requester: 'writ-bench', expires });
}

/** A `writ serve` just started, and the first what-happened it is asked, on a new connection. */
async function firstAnswer(fixture: EvidenceFixture, secret: string, id: string): Promise<number> {
  const serve = await spawnServe(urlAs(fixture.url, 'serve'), secret);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const url = jsonLink(serve.url, secret, id);
    const took: number[] = [];
    const { status, body } = await timed(took, () => get(agent, url));
    if (status !== 200) throw new Error(`GET ${url} answered ${status}: ${body.slice(0, 300)}`);
    return took[0]!;
  } finally {
    agent.destroy();
    await serve.stop();
  }
}

function figures(latencies: Record<Series, number[]>): Record<string, number> {
  const base = latency(latencies.baseline);
  const op = latency(latencies.operation);
  const corr = latency(latencies.correlation);
  const all = latency([...latencies.operation, ...latencies.correlation]);
  log(
    `P3 over HTTP (writ serve, keep-alive): GET /healthz p50 ${base.p50} ms, p99 ${base.p99} ms | what-happened.json <operation id> p50 ${op.p50} ms, p99 ${op.p99} ms | <correlation id> p50 ${corr.p50} ms, p99 ${corr.p99} ms | both p50 ${all.p50} ms, p99 ${all.p99} ms, max ${all.max} ms (${latencies.operation.length + latencies.correlation.length} requests)`,
  );
  const quiet = latency(latencies.afterQuiet);
  const first = latency(latencies.first);
  log(
    `P3 over HTTP, what-happened.json <correlation id>: after ${QUIET_SPELL_MS / 1000} s of quiet ${latencies.afterQuiet.map((ms) => ms.toFixed(1)).join(', ')} ms | the first answer of a new writ serve ${latencies.first.map((ms) => ms.toFixed(1)).join(', ')} ms`,
  );
  return {
    p3_http_after_quiet_max_ms: quiet.max,
    p3_http_first_answer_max_ms: first.max,
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
