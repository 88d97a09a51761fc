import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { filesConnector } from '../../src/connectors/files/index.js';
import { httpConnector } from '../../src/connectors/http/index.js';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import type { OperationRequestInput } from '../../src/model/request.js';
import { writPlugin } from '../../src/plugin.js';
import type { WritHarness } from '../support/writ.js';
import { startRestServer } from '../support/rest-server.js';
import { ledgerEvents, startWrit, updateTier } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

/**
 * The requester plays against policy with only what a requester has: the fields of a request sent
 * through a real Temporal client. Each spelling, action or claim below escaped a rule before.
 */
const approvals = { required: 1, fromGroups: ['managers'] };
const directory = {
  approvers: [{ id: 'bob', groups: ['managers'] }],
  requesters: [
    { id: 'mallory', groups: ['contractors'] },
    { id: 'alice', groups: ['sales-ops'] },
  ],
};

async function decided(
  harness: WritHarness,
  request: OperationRequestInput,
): Promise<{ matchedRules: string[]; approvalsRequired: number; payload: Record<string, unknown> }> {
  const { operationId } = await harness.writ.start({ ...request, mode: 'dry-run' });
  const result = await harness.writ.result(operationId);
  assert.equal(result.outcome, 'dry_run', `the dry run of ${JSON.stringify(request.steps)} ended ${result.outcome}`);
  const record = (await ledgerEvents(harness.ledger, operationId)).find((e) => e.type === 'policy.decided')!;
  const decision = record.payload.decision as { matchedRules: string[]; approvalsRequired: number };
  return {
    matchedRules: decision.matchedRules,
    approvalsRequired: decision.approvalsRequired,
    payload: record.payload,
  };
}

const row = (target: string, action = 'update', params: Record<string, unknown> = { set: { tier: 'gold' } }) =>
  updateTier({ steps: [{ connector: 'postgres', action, target, params: params as never }] });

describe('when a requester spells a postgres target differently', () => {
  test('every spelling that reaches the same row hits a rule on its canonical identity (property)', async (t) => {
    const harness = await startWrit(t, {
      policy: {
        id: 'p',
        identity: ASSERTED_IDENTITIES,
        rules: [
          { name: 'acme-row', match: { connector: 'postgres', target: 'public.accounts/42' }, risk: 'high', approvals },
        ],
      },
      approvers: directory,
    });
    const caseOf = (word: string, pattern: boolean[]) =>
      [...word].map((c, i) => (pattern[i % pattern.length] ? c.toUpperCase() : c)).join('');
    const spelling = fc
      .record({
        schema: fc.constantFrom('none', 'plain', 'quoted'),
        quotedTable: fc.boolean(),
        upper: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
        key: fc.constantFrom('42', '042', ' 42', '+42', '0042 '),
      })
      .map(({ schema, quotedTable, upper, key }) => {
        const table = quotedTable ? '"accounts"' : caseOf('accounts', upper);
        const prefix = schema === 'none' ? '' : schema === 'plain' ? `${caseOf('public', upper)}.` : '"public".';
        return `${prefix}${table}/${key}`;
      });
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(spelling, async (target) => {
        if (seen.has(target)) return;
        seen.add(target);
        const decision = await decided(harness, row(target));
        assert.deepEqual(decision.matchedRules, ['acme-row'], `${target} escaped the rule`);
        assert.equal(
          (decision.payload.steps as Array<{ identity: string }>)[0]!.identity,
          'postgres:public.accounts/42',
        );
      }),
      { numRuns: 12, seed: 10 },
    );
    // And a different row is not caught by a rule on row 42.
    assert.deepEqual((await decided(harness, row('accounts/43'))).matchedRules, []);
  });

  test('under a case-insensitive key (citext), `ACME` and `Acme` are the row stored as `acme`', async (t) => {
    const harness = await startWrit(t, {
      policy: {
        id: 'p',
        identity: ASSERTED_IDENTITIES,
        rules: [{ name: 'acme', match: { target: 'public.customers/acme' }, risk: 'high', approvals }],
      },
      approvers: directory,
    });
    await harness.ledger.pool.query('CREATE EXTENSION IF NOT EXISTS citext');
    await harness.ledger.pool.query(
      `CREATE TABLE customers (code citext PRIMARY KEY, tier text NOT NULL); INSERT INTO customers VALUES ('acme', 'silver')`,
    );
    for (const target of ['customers/ACME', 'customers/Acme', 'public.customers/acme']) {
      assert.deepEqual((await decided(harness, row(target))).matchedRules, ['acme'], `${target} escaped the rule`);
    }
  });

  test('the schema defaults to public, so `accounts/42` hits a rule on `public.accounts/*` and has to wait for approval', async (t) => {
    const harness = await startWrit(t, {
      policy: {
        id: 'p',
        identity: ASSERTED_IDENTITIES,
        rules: [{ name: 'accounts', match: { target: 'public.accounts/*' }, risk: 'high', approvals }],
      },
      approvers: directory,
    });
    const { operationId } = await harness.writ.start(row('accounts/42'));
    const state = await waitFor(harness, operationId, 'awaiting_approval');
    assert.equal(state, 'awaiting_approval');
    assert.equal(
      (await harness.ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier,
      'silver',
      'nothing was written',
    );
  });
});

async function waitFor(harness: WritHarness, operationId: string, wanted: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const current = await harness.writ.state(operationId).catch(() => null);
    if (current?.state === wanted || current?.state === 'closed' || Date.now() > deadline)
      return current?.state ?? 'unknown';
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("when a requester picks an action whose effect is a rule's", () => {
  test('an upsert of an existing row is an update (effect modify), an upsert of a new row an insert (effect create)', async (t) => {
    const harness = await startWrit(t, {
      policy: {
        id: 'p',
        identity: ASSERTED_IDENTITIES,
        rules: [
          { name: 'updates', match: { connector: 'postgres', action: 'update' }, risk: 'high', approvals },
          { name: 'modifications', match: { effect: 'modify' }, risk: 'high' },
          { name: 'inserts', match: { action: 'insert' }, risk: 'medium' },
        ],
      },
      approvers: directory,
    });
    const existing = await decided(harness, row('public.accounts/42', 'upsert', { values: { tier: 'gold' } }));
    assert.deepEqual(existing.matchedRules, ['updates', 'modifications']);
    assert.equal(existing.approvalsRequired, 1);
    assert.deepEqual((existing.payload.steps as Array<Record<string, unknown>>)[0], {
      stepIndex: 0,
      connector: 'postgres',
      action: 'upsert',
      effectiveAction: 'update',
      effect: 'modify',
      target: 'public.accounts/42',
      identity: 'postgres:public.accounts/42',
    });
    const fresh = await decided(
      harness,
      row('public.accounts/99', 'upsert', { values: { name: 'New', tier: 'gold' } }),
    );
    assert.deepEqual(fresh.matchedRules, ['inserts']);
  });
});

describe('when a requester claims groups in the request', () => {
  const policy = {
    id: 'p',
    identity: ASSERTED_IDENTITIES,
    rules: [{ name: 'contractors-need-review', match: { actorGroups: ['contractors'] }, risk: 'high', approvals }],
  };

  test('a contractor who claims no groups (or other groups) is still a contractor: the directory says so', async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    for (const groups of [[], ['managers'], ['sales-ops']]) {
      const decision = await decided(harness, updateTier({ actor: { id: 'mallory', kind: 'user', groups } }));
      assert.deepEqual(
        decision.matchedRules,
        ['contractors-need-review'],
        `claiming ${JSON.stringify(groups)} escaped the rule`,
      );
      assert.deepEqual(decision.payload.requester, { id: 'mallory', groups: ['contractors'], claimedGroups: groups });
    }
  });

  test("claiming a group gains nothing: someone the directory does not list has no groups, whatever they claim, and the records carry the directory's groups", async (t) => {
    const harness = await startWrit(t, { policy, approvers: directory });
    const { operationId } = await harness.writ.start(
      updateTier({ actor: { id: 'eve', kind: 'user', groups: ['contractors', 'managers'] }, mode: 'dry-run' }),
    );
    await harness.writ.result(operationId);
    const events = await ledgerEvents(harness.ledger, operationId);
    const decision = events.find((e) => e.type === 'policy.decided')!.payload;
    assert.deepEqual((decision.requester as { groups: string[] }).groups, []);
    const planned = events.find((e) => e.type === 'operation.planned')!.payload as {
      envelope: { actor: { groups: string[] } };
      claimedGroups: string[];
    };
    assert.deepEqual(planned.envelope.actor.groups, []);
    assert.deepEqual(planned.claimedGroups, ['contractors', 'managers']);
    const actors = await harness.ledger.pool.query(
      `SELECT DISTINCT record->'actor'->'groups' AS groups FROM writ.records WHERE operation_id = $1`,
      [operationId],
    );
    assert.deepEqual(
      actors.rows.map((r) => r.groups),
      [[]],
      'no record states a claimed group as a fact',
    );
  });
});

describe('when a rule names labels, which the requester sets', () => {
  test('the policy is refused when the worker loads it, saying why', () => {
    assert.throws(
      () =>
        writPlugin({
          ledger: { databaseUrl: 'postgres://unused' },
          connectors: [],
          policy: { id: 'p', rules: [{ name: 'prod', match: { labels: { env: 'prod' } }, approvals }] },
        }),
      /rules\.0\.match\.labels: labels are set by the requester, so a rule that needs them is dodged by leaving them out/,
    );
  });

  test('an opt-in rule adds its requirement when the label is there, and a control rule applies whatever the labels say', async (t) => {
    const harness = await startWrit(t, {
      policy: {
        id: 'p',
        identity: ASSERTED_IDENTITIES,
        rules: [
          { name: 'accounts', match: { target: 'public.accounts/*' }, risk: 'medium' },
          { name: 'asked-for-review', optIn: { labels: { review: 'yes' } }, risk: 'high', approvals },
        ],
      },
      approvers: directory,
    });
    for (const labels of [undefined, {}, { review: 'no' }, { env: 'dev' }] as Array<
      Record<string, string> | undefined
    >) {
      assert.deepEqual((await decided(harness, updateTier(labels ? { labels } : {}))).matchedRules, ['accounts']);
    }
    assert.deepEqual((await decided(harness, updateTier({ labels: { review: 'yes' } }))).matchedRules, [
      'accounts',
      'asked-for-review',
    ]);
  });
});

describe('when a requester spells a file path differently', () => {
  test('`./prod/x`, `prod//x`, `prod/./x` and a directory link to prod all hit a rule on `prod/*`', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'writ-dodge-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'prod'));
    symlinkSync(join(root, 'prod'), join(root, 'alias'));
    const harness = await startWrit(t, {
      policy: {
        id: 'p',
        identity: ASSERTED_IDENTITIES,
        rules: [{ name: 'prod-files', match: { connector: 'files', target: 'prod/*' }, risk: 'high', approvals }],
      },
      approvers: directory,
      connectors: (ledger) => [postgresConnector({ pool: ledger.pool }), filesConnector({ root })],
    });
    for (const target of ['prod/x', './prod/x', 'prod//x', 'prod/./x', 'alias/x']) {
      const decision = await decided(
        harness,
        updateTier({ steps: [{ connector: 'files', action: 'write', target, params: { content: 'hello' } }] }),
      );
      assert.deepEqual(decision.matchedRules, ['prod-files'], `${target} escaped the rule`);
      assert.equal((decision.payload.steps as Array<{ target: string }>)[0]!.target, 'prod/x');
    }
  });
});

describe('when a requester spells an http path differently', () => {
  test('`accounts//42`, `accounts/%34%32` and `%61ccounts/42` hit a rule on `accounts/42`, and the resource written is the canonical one', async (t) => {
    const server = await startRestServer();
    t.after(() => server.close());
    server.setResource('/api/accounts/42', { name: 'Acme', tier: 'silver' });
    const harness = await startWrit(t, {
      policy: {
        id: 'p',
        identity: ASSERTED_IDENTITIES,
        rules: [
          { name: 'acme-resource', match: { connector: 'http', target: 'accounts/42' }, risk: 'high', approvals },
        ],
      },
      approvers: directory,
      connectors: (ledger) => [
        postgresConnector({ pool: ledger.pool }),
        httpConnector({ baseUrl: `${server.url}/api/` }),
      ],
    });
    for (const target of ['accounts/42', 'accounts//42', 'accounts/%34%32', '%61ccounts/42']) {
      const decision = await decided(
        harness,
        updateTier({ steps: [{ connector: 'http', action: 'patch', target, params: { merge: { tier: 'gold' } } }] }),
      );
      assert.deepEqual(decision.matchedRules, ['acme-resource'], `${target} escaped the rule`);
      assert.equal((decision.payload.steps as Array<{ target: string; effect: string }>)[0]!.target, 'accounts/42');
    }
    assert.ok(
      server.received.every((request) => request.path === '/api/accounts/42'),
      `requests went to ${[...new Set(server.received.map((r) => r.path))].join(', ')}`,
    );
  });
});
