/**
 * The outside services `writ serve` relies on, run locally with their documented APIs: an OpenID
 * provider's discovery document and Slack's auth.test; and the clock against the database's.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { clockCheck } from '../../src/doctor/clock.js';
import { oidcIssuerCheck, slackCheck } from '../../src/doctor/identity.js';
import { freePort } from '../../src/net/ports.js';
import { freshLedger } from '../support/db.js';
import { startSlackApiServer } from '../support/slack-api-server.js';
import { CLEARED, doctorCli } from './support.js';

async function discoveryServer(t: { after: (fn: () => Promise<void>) => void }, claimed?: string) {
  const server = createServer((request, response) => {
    if (request.url !== '/.well-known/openid-configuration') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ issuer: claimed ?? issuer, jwks_uri: `${issuer}/jwks` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return issuer;
}

test('an OIDC issuer that does not answer, or names another issuer, fails; one that answers is ok', async (t) => {
  const silent = `http://127.0.0.1:${await freePort()}`;
  const run = await doctorCli({ ...CLEARED, TEMPORAL_ADDRESS: '127.0.0.1:1', WRIT_OIDC_ISSUER: silent }, [
    '--role',
    'serve',
  ]);
  assert.equal(run.code, 1);
  const check = run.checks.get('oidc-issuer')!;
  assert.equal(check.status, 'fail');
  assert.ok(check.detail.startsWith(`${silent}/.well-known/openid-configuration: `), check.detail);
  assert.match(check.fix!, /check WRIT_OIDC_ISSUER/);

  const issuer = await discoveryServer(t);
  assert.equal((await oidcIssuerCheck(issuer)).status, 'ok');
  const impostor = await discoveryServer(t, 'https://login.example.com');
  const mismatch = await oidcIssuerCheck(impostor);
  assert.equal(mismatch.status, 'fail');
  assert.match(mismatch.detail, /names the issuer https:\/\/login\.example\.com, not http:\/\/127\.0\.0\.1:\d+/);
});

test('a Slack bot token the Slack API refuses fails with invalid_auth; the right one is ok', async (t) => {
  const slack = await startSlackApiServer({ token: 'xoxb-right' });
  t.after(() => slack.close());
  const env = { ...CLEARED, TEMPORAL_ADDRESS: '127.0.0.1:1', WRIT_SLACK_API_URL: `${slack.url}/api/` };
  const refused = await doctorCli({ ...env, WRIT_SLACK_BOT_TOKEN: 'xoxb-wrong' });
  assert.equal(refused.code, 1);
  const check = refused.checks.get('slack')!;
  assert.equal(check.status, 'fail');
  assert.match(check.detail, /auth\.test refused the bot token: invalid_auth/);
  assert.match(check.fix!, /WRIT_SLACK_BOT_TOKEN/);
  const accepted = await slackCheck({ ...env, WRIT_SLACK_BOT_TOKEN: 'xoxb-right' });
  assert.equal(accepted.status, 'ok', accepted.detail);
  assert.match(accepted.detail, /team Acme/);
});

test("a clock ahead of the database's beyond the tolerance fails; within it is ok", async (t) => {
  const ledger = await freshLedger(t);
  const inStep = await clockCheck(ledger.pool, Date.now, 2_000);
  assert.equal(inStep.status, 'ok', inStep.detail);
  const ahead = await clockCheck(ledger.pool, () => Date.now() + 30_000, 2_000);
  assert.equal(ahead.status, 'fail');
  assert.match(ahead.detail, /this host's clock is 3\d\.\d s ahead of the database's \(tolerance 2\.0 s\)/);
  assert.match(ahead.fix!, /NTP/);
  const behind = await clockCheck(ledger.pool, () => Date.now() - 30_000, 60_000);
  assert.equal(behind.status, 'ok', 'a wider tolerance accepts the same skew');
});
