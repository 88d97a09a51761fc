import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { webhookConnector } from '../../src/connectors/webhook/index.js';
import { runWrit } from '../support/cli.js';
import { keygen } from '../support/signing-key.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { startWrit } from '../support/writ.js';

// An incoming-webhook URL as Slack and others hand them out: the path and the query are the credential.
const PATH_SECRETS = ['T0SECRETTEAM', 'B0SECRETHOOK', 'xoxbPathSecret1234567890'];
const QUERY_SECRET = 'QueryTokenSecret987654';
const secretUrl = (base: string) => {
  const url = new URL(base);
  url.pathname = `/services/${PATH_SECRETS.join('/')}`;
  url.search = `?token=${QUERY_SECRET}`;
  return url.href;
};

/** Text in which any part of the secret URL shows, as `what: …` lines. */
function leaks(what: string, text: string): string[] {
  return [...PATH_SECRETS, QUERY_SECRET]
    .filter((secret) => text.includes(secret))
    .map((secret) => `${what} holds ${secret}`);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Payload bytes in Temporal's protos are byte arrays or base64: read them as text too, so a grep sees them. */
const asText = (value: unknown) =>
  JSON.stringify(value, (_key, member: unknown) => {
    if (member instanceof Uint8Array) return Buffer.from(member).toString('utf8');
    if (typeof member === 'string' && BASE64.test(member))
      return `${member} ${Buffer.from(member, 'base64').toString('utf8')}`;
    // A Buffer has turned itself into { type: 'Buffer', data } before a replacer sees it.
    const buffer = member as { type?: unknown; data?: unknown } | null;
    if (buffer && buffer.type === 'Buffer' && Array.isArray(buffer.data))
      return Buffer.from(buffer.data as number[]).toString('utf8');
    return member;
  });

test('when operations notify through a webhook whose URL is a secret, nothing they produce holds any part of it', async (t) => {
  const receiver = await startWebhookReceiver();
  t.after(() => receiver.close());
  // A receiver that refuses, quoting the URL it was called at (as many 404 pages do).
  const echoing = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `no hook at ${request.url}` }));
    });
  });
  await new Promise<void>((resolve) => echoing.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => echoing.close(() => resolve())));

  const { ledger, writ, client } = await startWrit(t, {
    connectors: (l) => [
      postgresConnector({ pool: l.pool, allowLedgerDatabase: true }),
      webhookConnector({ url: secretUrl(receiver.url) }),
      webhookConnector({
        name: 'webhook-old',
        url: secretUrl(`http://127.0.0.1:${(echoing.address() as AddressInfo).port}/`),
      }),
    ],
  });
  // Account 43's owner rewrites tiers, so the third operation fails verification and is rolled back.
  await ledger.pool.query(
    `CREATE FUNCTION lower_tier() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 43 THEN NEW.tier := lower(NEW.tier); END IF; RETURN NEW; END $$`,
  );
  await ledger.pool.query(
    `CREATE TRIGGER lower_tier BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION lower_tier()`,
  );

  const actor = { id: 'alice', kind: 'user' as const };
  const notify = {
    connector: 'webhook',
    action: 'notify',
    target: '#billing',
    params: { message: 'Acme renewed', data: { account: 42 } },
  };
  const delivered = await writ.start({ actor, intent: 'announce the renewal', steps: [notify] });
  const refused = await writ.start({
    actor,
    intent: 'raise Acme, tell the old channel',
    steps: [
      { connector: 'postgres', action: 'update', target: 'public.accounts/42', params: { set: { tier: 'gold' } } },
      { connector: 'webhook-old', action: 'notify', target: '#legacy', params: { message: 'Acme is gold' } },
    ],
  });
  const corrected = await writ.start({
    actor,
    intent: 'announce, then raise Globex',
    steps: [
      notify,
      { connector: 'postgres', action: 'update', target: 'public.accounts/43', params: { set: { tier: 'PLATINUM' } } },
    ],
  });
  const operations = [delivered.operationId, refused.operationId, corrected.operationId];
  assert.equal((await writ.result(delivered.operationId)).outcome, 'succeeded');
  assert.notEqual((await writ.result(refused.operationId)).outcome, 'succeeded');
  assert.equal((await writ.result(corrected.operationId)).outcome, 'rolled_back');
  assert.equal(receiver.corrections('#billing').length, 1, 'the rollback sent a correction through the secret URL');

  const found: string[] = [];
  // The ledger: every record's bytes, and the what-happened projection.
  const records = await ledger.pool.query(
    `SELECT seq, convert_from(canonical, 'UTF8') AS bytes FROM writ.records ORDER BY seq`,
  );
  assert.ok(records.rows.length > 20, 'the operations were recorded');
  for (const row of records.rows) found.push(...leaks(`record ${row.seq}`, row.bytes));
  const projections = await ledger.pool.query(`SELECT to_jsonb(o)::text AS row FROM writ.operations o`);
  for (const row of projections.rows) found.push(...leaks('writ.operations', row.row));
  const identities = records.rows.map((row) => row.bytes as string).join('\n');

  // The bundle, every file of it (records.csv included), and what-happened as the CLI prints it.
  const dir = mkdtempSync(join(tmpdir(), 'writ-secrets-'));
  const { env: signing } = await keygen(dir);
  const env = { DATABASE_URL: ledger.url, ...signing, WRIT_ANCHOR_DIR: join(dir, 'anchors') };
  const window = [
    '--from',
    new Date(Date.now() - 3600_000).toISOString(),
    '--to',
    new Date(Date.now() + 60_000).toISOString(),
  ];
  const exported = await runWrit(['export', ...window, '--out', join(dir, 'bundle')], { env });
  assert.equal(exported.code, 0, exported.stderr);
  const files = readdirSync(join(dir, 'bundle'));
  assert.ok(files.includes('records.csv'));
  for (const file of files) found.push(...leaks(`bundle ${file}`, readFileSync(join(dir, 'bundle', file), 'utf8')));
  for (const operationId of operations) {
    for (const args of [[], ['--json'], ['--timeline', '--json']]) {
      const printed = await runWrit(['what-happened', operationId, ...args], { env });
      assert.equal(printed.code, 0, printed.stderr);
      found.push(...leaks(`what-happened ${args.join(' ')}`, printed.stdout + printed.stderr));
    }
  }

  // Temporal: each workflow's whole history, its description (search attributes, summary, details) and current details.
  for (const operationId of operations) {
    const handle = client.workflow.getHandle(operationId);
    const history = asText(await handle.fetchHistory());
    assert.ok(history.includes('#billing') || history.includes('#legacy'), 'the history was read as text');
    found.push(...leaks(`history of ${operationId}`, history));
    found.push(...leaks(`description of ${operationId}`, asText((await handle.describe()).raw)));
    found.push(
      ...leaks(`current details of ${operationId}`, asText(await handle.query('__temporal_workflow_metadata'))),
    );
  }
  assert.deepEqual(found, [], 'no part of the secret URL reached the evidence');
  assert.match(
    identities,
    /webhook:http:\/\/127\.0\.0\.1:\d+#sha256:[0-9a-f]{16}\/#billing/,
    'the endpoint is named by host and hash',
  );
  assert.match(
    identities,
    /POST http:\/\/127\.0\.0\.1:\d+#sha256:[0-9a-f]{16} got 404, a refusal a retry cannot fix: \{\\"error\\":\\"no hook at \[redacted\]\\"\}/,
    'the refusal is recorded, scrubbed',
  );
});
