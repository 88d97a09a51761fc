import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { InvalidRequestError } from '../../src/client.js';
import { runWrit } from '../support/cli.js';
import { temporalAddress } from '../support/db.js';
import { ledgerEvents, startWrit, updateTier } from '../support/writ.js';

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** Requests that are well formed up to the part that is hostile, so nothing but the limit refuses them. */
const HOSTILE = {
  'nested 3,000 deep': () =>
    updateTier({
      steps: [
        {
          connector: 'postgres',
          action: 'update',
          target: 'public.accounts/42',
          params: { set: nested(3000) as never },
        },
      ],
    }),
  'of 1 MB': () => updateTier({ intent: 'x'.repeat(1024 * 1024) }),
  'with a 100,000-element array': () =>
    updateTier({
      steps: [
        {
          connector: 'postgres',
          action: 'update',
          target: 'public.accounts/42',
          params: { set: { tier: 'gold' }, extra: Array.from({ length: 100_000 }, () => 0) },
        },
      ],
    }),
};

describe('hostile input is refused at once and recorded', () => {
  for (const [name, make] of Object.entries(HOSTILE)) {
    test(`when a raw Temporal client starts governedWrite with a request ${name}, the operation closes invalid within seconds with the refusal recorded`, async (t) => {
      const { client, taskQueue, ledger } = await startWrit(t);
      const operationId = `op-${randomUUID()}`;
      const started = Date.now();
      const handle = await client.workflow.start('governedWrite', {
        taskQueue,
        workflowId: operationId,
        args: [{ ...(make() as object), operationId }, { activityTimeoutMs: 10_000 }],
        workflowExecutionTimeout: '60s',
      });
      const result = (await handle.result()) as { outcome: string };
      assert.equal(result.outcome, 'invalid');
      assert.ok(Date.now() - started < 15_000, `closed in ${Date.now() - started} ms`);
      const events = await ledgerEvents(ledger, operationId);
      assert.deepEqual(
        events.map((e) => e.type),
        ['operation.planned', 'operation.validation_failed', 'operation.closed'],
      );
      assert.match(String(events[0]!.payload.problem), /at most/, 'the refusal names the limit');
      const stored = await ledger.pool.query<{ n: number }>(
        'SELECT max(octet_length(canonical))::int AS n FROM writ.records WHERE operation_id = $1',
        [operationId],
      );
      assert.ok(
        stored.rows[0]!.n < 16 * 1024,
        `no record carries the hostile request (largest: ${stored.rows[0]!.n} bytes)`,
      );
      assert.equal((await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier, 'silver');
    });
  }

  test('when a raw Temporal client starts governedWrite with a 10 MB request, Temporal refuses it or the operation closes invalid; it never runs', async (t) => {
    const { client, taskQueue, ledger } = await startWrit(t);
    const operationId = `op-${randomUUID()}`;
    let outcome: string;
    try {
      const handle = await client.workflow.start('governedWrite', {
        taskQueue,
        workflowId: operationId,
        args: [{ ...updateTier({ intent: 'x'.repeat(10 * 1024 * 1024) }), operationId }, {}],
        workflowExecutionTimeout: '60s',
      });
      outcome = ((await handle.result()) as { outcome: string }).outcome;
    } catch (error) {
      const messages: string[] = [];
      for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) messages.push(cause.message);
      outcome = `refused by Temporal: ${messages.join(': ')}`;
    }
    assert.match(outcome, /^invalid$|^refused by Temporal: .*(size|limit|exceed|large)/i);
    assert.equal((await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier, 'silver');
  });

  test('when WritClient is given a request nested 3,000 deep, it refuses it naming the depth limit and starts nothing', async (t) => {
    const { writ } = await startWrit(t);
    for (const make of Object.values(HOSTILE)) {
      await assert.rejects(
        writ.start(make() as never),
        (error: Error) => error instanceof InvalidRequestError && /request refused: .*at most/.test(error.message),
      );
    }
  });

  test('when writ submit is given such a file, it exits 1 naming the limit', async (t) => {
    const connection = await Connection.connect({ address: temporalAddress() });
    t.after(() => connection.close());
    const taskQueue = `hostile-${randomUUID()}`;
    const env = { TEMPORAL_ADDRESS: temporalAddress(), WRIT_TASK_QUEUE: taskQueue };
    const dir = mkdtempSync(join(tmpdir(), 'writ-hostile-'));
    const files: Record<string, { request: unknown; limit: RegExp }> = {
      'deep.json': { request: HOSTILE['nested 3,000 deep'](), limit: /nested more than 32 levels deep/ },
      'big.json': { request: updateTier({ intent: 'x'.repeat(10 * 1024 * 1024) }), limit: /larger than 256 KiB/ },
      'wide.json': { request: HOSTILE['with a 100,000-element array'](), limit: /100000 elements \(at most 10000/ },
    };
    for (const [name, { request, limit }] of Object.entries(files)) {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify(request));
      const result = await runWrit(['submit', path], { env });
      assert.equal(result.code, 1, `${name}: ${result.stderr}`);
      assert.match(result.stderr, limit, name);
    }
    const started = new Client({ connection }).workflow.list({ query: `TaskQueue = '${taskQueue}'` });
    for await (const _ of started) assert.fail('no workflow was started');
  });
});
