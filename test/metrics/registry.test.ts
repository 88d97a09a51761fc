import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { createPool } from '../../src/db/pool.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import { InvalidRecordError } from '../../src/ledger/record.js';
import { metricsConfigFromEnv } from '../../src/metrics/config.js';
import { serveMetrics, writMetrics } from '../../src/metrics/index.js';
import { freshLedger } from '../support/db.js';
import { parseExposition, samples, scrape, value } from '../support/prometheus.js';
import { note } from '../support/records.js';

describe("the appender's metrics", () => {
  test('each record is counted by how it ended, its latency observed once if written, and every batch sized', async (t) => {
    const { pool } = await freshLedger(t);
    const { registry, appendObserver } = writMetrics();
    const appender = new GroupCommitAppender(pool, { observer: appendObserver });
    await appender.appendAll([note(1), note(2), note(3, { idempotencyKey: 'manual/k' })]);
    const again = await appender.append(note(3, { idempotencyKey: 'manual/k' }));
    assert.equal(again.duplicate, true);
    await assert.rejects(appender.append({ ...note(4), type: '' }), InvalidRecordError);

    const all = parseExposition(await registry.metrics());
    assert.equal(value(all, 'writ_ledger_appends_total', { outcome: 'ok' }), 3);
    assert.equal(value(all, 'writ_ledger_appends_total', { outcome: 'duplicate' }), 1);
    assert.equal(value(all, 'writ_ledger_appends_total', { outcome: 'error' }), 1);
    assert.equal(value(all, 'writ_ledger_append_seconds_count'), 3);
    assert.ok(value(all, 'writ_ledger_append_seconds_sum') > 0);
    // The refused draft never reached a batch; the duplicate did (it was looked up in one).
    assert.equal(value(all, 'writ_ledger_batch_records_sum'), 4);
    assert.equal(value(all, 'writ_ledger_batch_records_count'), 2);
    assert.equal(value(all, 'writ_ledger_batches_failed_total'), 0);
    const stored = (await pool.query('SELECT count(*)::int AS n FROM writ.records')).rows[0].n;
    assert.equal(stored, 3, 'the ok count is what the ledger holds');
  });

  test('when a batch fails as a whole, its records count as errors and the batch as failed', async (t) => {
    const ledger = await freshLedger(t);
    const pool = createPool(ledger.url, { max: 1 });
    const { registry, appendObserver } = writMetrics();
    const appender = new GroupCommitAppender(pool, { observer: appendObserver });
    await pool.end();
    await assert.rejects(appender.appendAll([note(1), note(2)]), /LEDGER|ledger append failed/);
    const all = parseExposition(await registry.metrics());
    assert.equal(value(all, 'writ_ledger_appends_total', { outcome: 'error' }), 2);
    assert.equal(value(all, 'writ_ledger_appends_total', { outcome: 'ok' }), 0);
    assert.equal(value(all, 'writ_ledger_batches_failed_total'), 1);
    assert.equal(value(all, 'writ_ledger_append_seconds_count'), 0);
  });
});

describe('the metrics read from the database at scrape time', () => {
  test('when the database is too slow, a scrape still answers within the timeout, with database_up 0 and the append counts', async (t) => {
    const ledger = await freshLedger(t);
    const pool = createPool(ledger.url, { max: 1, applicationName: 'writ-metrics', timeoutMs: 300 });
    t.after(() => pool.end());
    const { registry, appendObserver } = writMetrics({ pool });
    await new GroupCommitAppender(ledger.pool, { observer: appendObserver }).append(note(1));
    const server = await serveMetrics(registry, '127.0.0.1', 0);
    t.after(() => server.close());

    const healthy = await scrape(server.url);
    assert.equal(value(healthy, 'writ_metrics_database_up'), 1);
    assert.equal(value(healthy, 'writ_approvals_waiting'), 0);
    assert.equal(value(healthy, 'writ_approval_wait_oldest_seconds'), 0);
    assert.deepEqual(samples(healthy, 'writ_operations'), [], 'no operations yet');

    // Someone holds writ.operations in an exclusive lock: every read of it waits.
    const locker = new pg.Client({ connectionString: ledger.url });
    await locker.connect();
    let stuck: Awaited<ReturnType<typeof scrape>>;
    let took: number;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE writ.operations IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      stuck = await scrape(server.url);
      took = Date.now() - started;
    } finally {
      await locker.end();
    }
    assert.ok(took < 3000, `the scrape took ${took} ms`);
    assert.equal(value(stuck, 'writ_metrics_database_up'), 0);
    assert.ok(Number.isNaN(value(stuck, 'writ_approvals_waiting')), 'an unknown gauge is NaN, not 0');
    assert.equal(value(stuck, 'writ_ledger_appends_total', { outcome: 'ok' }), 1);

    const recovered = await scrape(server.url);
    assert.equal(value(recovered, 'writ_metrics_database_up'), 1);
  });

  test("the oldest approval's wait counts from its latest request, however many approval events came after it", async (t) => {
    const { pool } = await freshLedger(t);
    const { registry } = writMetrics({ pool });
    const operationId = 'op-waiting';
    const actor = { id: 'writ', kind: 'service' } as const;
    const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
    const event = (type: string, secondsAgo: number, extra: Partial<RecordDraft> = {}): RecordDraft => ({
      type,
      operationId,
      actor,
      occurredAt: ago(secondsAgo),
      payload: {},
      ...extra,
    });
    // Asked two hours after the operation started, the approval went stale and was asked for again
    // half an hour ago; then 25 refusals, more than an approval trail of 20 would keep.
    await new GroupCommitAppender(pool).appendAll([
      event('operation.planned', 3 * 3600, { state: 'planned' }),
      event('approval.requested', 3600, { state: 'awaiting_approval' }),
      event('approval.stale', 3000),
      event('approval.requested', 1800),
      ...Array.from({ length: 25 }, (_, i) =>
        event('approval.refused', 1700 - i, { payload: { approver: 'mallory', refusal: 'not an approver' } }),
      ),
    ]);
    const all = parseExposition(await registry.metrics());
    assert.equal(value(all, 'writ_approvals_waiting'), 1);
    const age = value(all, 'writ_approval_wait_oldest_seconds');
    assert.ok(age >= 1800 && age < 1900, `the approval has waited ${age} s since it was last asked for`);
  });

  test('when the endpoint is asked for anything but GET /metrics, it says so', async (t) => {
    const server = await serveMetrics(writMetrics().registry, '127.0.0.1', 0);
    t.after(() => server.close());
    assert.equal((await fetch(server.url.replace('/metrics', '/'))).status, 404);
    assert.equal((await fetch(server.url, { method: 'POST' })).status, 405);
    const ok = await fetch(server.url);
    assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  });
});

describe('metrics configuration', () => {
  test('when the port or the SDK address is malformed, the error names the variable and the form expected', () => {
    assert.throws(
      () => metricsConfigFromEnv({ WRIT_METRICS_PORT: 'ninety' }),
      /WRIT_METRICS_PORT must be a port number/,
    );
    assert.throws(
      () => metricsConfigFromEnv({ WRIT_TEMPORAL_METRICS_ADDRESS: '9465' }),
      /WRIT_TEMPORAL_METRICS_ADDRESS must be host:port \(for example 127\.0\.0\.1:9465\), not "9465"/,
    );
    assert.deepEqual(metricsConfigFromEnv({ WRIT_METRICS_PORT: '9464', WRIT_TEMPORAL_METRICS_ADDRESS: '[::1]:9465' }), {
      writ: { host: '127.0.0.1', port: 9464 },
      temporalBindAddress: '[::1]:9465',
    });
    assert.deepEqual(metricsConfigFromEnv({}), {});
  });
});
