import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import type { OperationRequestInput } from '../../src/model/request.js';
import { withHooks } from '../support/hooked-connector.js';
import type { HarnessOptions, WritHarness } from '../support/writ.js';
import { startWrit, updateTier, waitForState } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

export const LINK_SECRET = 'serve-tests-link-secret-0123456789abcdef';
export const SLACK_SECRET = 'serve-tests-slack-signing-secret';

const approvers = {
  approvers: [
    { id: 'alice', groups: ['managers'] },
    { id: 'bob', groups: ['managers'] },
  ],
};
const policy = {
  id: 'serve-policy',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'reviewed-changes-need-a-manager',
      match: {},
      optIn: { labels: { review: 'yes' } },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], windowMs: 60_000 },
    },
  ],
};

export const TWO_STEPS: OperationRequestInput = {
  actor: { id: 'alice', kind: 'user' },
  intent: 'move Acme to a higher balance and Globex to platinum',
  steps: [
    { connector: 'postgres', action: 'update', target: 'public.accounts/42', params: { set: { balance: 250 } } },
    { connector: 'postgres', action: 'update', target: 'public.accounts/43', params: { set: { tier: 'platinum' } } },
  ],
};

export interface Operations {
  harness: WritHarness;
  pool: pg.Pool;
  /** Run one plain, approved-without-review write (succeeded). */
  plain(overrides?: Partial<OperationRequestInput>): Promise<string>;
  /** Waits for approval, has a self-approval refused, then is approved by bob. */
  approved(): Promise<string>;
  /** Two steps; someone else edits Globex before the second is read back, so both are rolled back. */
  rolledBack(): Promise<string>;
  /** The two steps of rolledBack, reviewed: approved by bob, then rolled back. */
  approvedThenRolledBack(): Promise<string>;
}

/**
 * Real governed writes through a real worker (PostgreSQL rows connector, a policy that asks a
 * manager to approve reviewed changes), for the serve tests to show and download.
 */
export async function operations(
  t: { after: (fn: () => Promise<void>) => void },
  options: Pick<HarnessOptions, 'personalData'> = {},
): Promise<Operations> {
  let verifications = 0;
  let sabotageAt = -1;
  const harness = await startWrit(t, {
    ...options,
    policy,
    approvers,
    connectors: (ledger) => [
      withHooks(postgresConnector({ pool: ledger.pool, allowLedgerDatabase: true }), {
        beforeVerify: async () => {
          if (++verifications === sabotageAt)
            await ledger.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 43`);
        },
      }),
    ],
  });
  const { writ } = harness;
  return {
    harness,
    pool: harness.ledger.pool,
    async plain(overrides = {}) {
      const { operationId } = await writ.start(updateTier(overrides));
      assert.equal((await writ.result(operationId)).outcome, 'succeeded');
      return operationId;
    },
    async approved() {
      const { operationId } = await writ.start(updateTier({ labels: { review: 'yes' } }, 'platinum'));
      await waitForState(writ, operationId, 'awaiting_approval');
      assert.equal((await writ.approve(operationId, { approver: 'alice', reason: 'my own' })).accepted, false);
      assert.equal(
        (await writ.approve(operationId, { approver: 'bob', reason: 'renewal confirmed by phone' })).accepted,
        true,
      );
      assert.equal((await writ.result(operationId)).outcome, 'succeeded');
      return operationId;
    },
    async rolledBack() {
      sabotageAt = verifications + 2;
      const { operationId } = await writ.start(TWO_STEPS);
      assert.equal((await writ.result(operationId)).outcome, 'rolled_back');
      return operationId;
    },
    async approvedThenRolledBack() {
      sabotageAt = verifications + 2;
      const { operationId } = await writ.start({ ...TWO_STEPS, labels: { review: 'yes' } });
      await waitForState(writ, operationId, 'awaiting_approval');
      assert.equal(
        (await writ.approve(operationId, { approver: 'bob', reason: 'balance confirmed by finance' })).accepted,
        true,
      );
      assert.equal((await writ.result(operationId)).outcome, 'rolled_back');
      return operationId;
    },
  };
}

export async function countAccessRecords(pool: pg.Pool): Promise<number> {
  const result = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM writ.records WHERE record->>'type' IN ('evidence.downloaded', 'evidence.viewed')`,
  );
  return result.rows[0]!.n;
}

export async function recordCount(pool: pg.Pool): Promise<number> {
  return (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM writ.records')).rows[0]!.n;
}

export interface PostedMessage {
  contentType: string | undefined;
  body: Record<string, unknown>;
}

/** Stands in for Slack's response_url: a local HTTP server that keeps what is POSTed to it. */
export async function startResponseUrlReceiver(): Promise<{
  url: string;
  messages: PostedMessage[];
  next(): Promise<PostedMessage>;
  close(): Promise<void>;
}> {
  const messages: PostedMessage[] = [];
  const waiters: Array<(message: PostedMessage) => void> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const message = {
        contentType: request.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      };
      messages.push(message);
      waiters.splice(0).forEach((wake) => wake(message));
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/commands/T1/1234/abcd`,
    messages,
    next: () => new Promise((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
