import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import {
  MAX_LINK_TTL_SECONDS,
  parsePort,
  parsePublicUrl,
  parseTtl,
  requireLinkSecret,
} from '../../src/serve/config.js';
import { issueLinks } from '../../src/serve/issue-links.js';
import { checkLink, signedUrl } from '../../src/serve/signed-links.js';
import type { LinkFormat } from '../../src/serve/signed-links.js';
import { slackSignature, verifySlackRequest } from '../../src/serve/slack-signature.js';

const SLACK_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = Date.UTC(2026, 2, 12, 9, 0, 0);
const nowSeconds = Math.floor(NOW / 1000);
const BODY = Buffer.from(
  'token=x&team_id=T1&user_id=U1&command=%2Fwhat-happened&text=op-1&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1',
  'utf8',
);

function slackHeaders(timestamp: number, body: Buffer = BODY, secret = SLACK_SECRET): Record<string, string> {
  return {
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(secret, String(timestamp), body),
  };
}

function flip(text: string, at = text.length - 5): string {
  return `${text.slice(0, at)}${text[at] === 'a' ? 'b' : 'a'}${text.slice(at + 1)}`;
}

describe('Slack request signatures', () => {
  test("follow Slack's documented example: v0= and the hex HMAC-SHA256 of v0:<timestamp>:<body>", () => {
    // The example from https://api.slack.com/authentication/verifying-requests-from-slack.
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    assert.equal(
      slackSignature(SLACK_SECRET, '1531420618', body),
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  test('a request signed with the secret, now, is accepted; one second short of five minutes either way too', () => {
    assert.deepEqual(verifySlackRequest(SLACK_SECRET, slackHeaders(nowSeconds), BODY, NOW), { ok: true });
    assert.deepEqual(verifySlackRequest(SLACK_SECRET, slackHeaders(nowSeconds - 300), BODY, NOW), { ok: true });
    assert.deepEqual(verifySlackRequest(SLACK_SECRET, slackHeaders(nowSeconds + 300), BODY, NOW), { ok: true });
  });

  test('a changed signature, body or secret is refused', () => {
    const headers = slackHeaders(nowSeconds);
    const flipped = verifySlackRequest(
      SLACK_SECRET,
      { ...headers, 'x-slack-signature': flip(headers['x-slack-signature']!) },
      BODY,
      NOW,
    );
    assert.equal(flipped.ok, false);
    assert.match(!flipped.ok ? flipped.problem : '', /X-Slack-Signature does not match/);
    const otherBody = Buffer.from(BODY.toString().replace('text=op-1', 'text=op-2'));
    assert.equal(verifySlackRequest(SLACK_SECRET, headers, otherBody, NOW).ok, false);
    assert.equal(
      verifySlackRequest(SLACK_SECRET, slackHeaders(nowSeconds, BODY, 'another-secret-entirely'), BODY, NOW).ok,
      false,
    );
    assert.equal(verifySlackRequest(SLACK_SECRET, { ...headers, 'x-slack-signature': 'v0=' }, BODY, NOW).ok, false);
  });

  test('stale and future timestamps are refused even when the signature over them is right', () => {
    const stale = verifySlackRequest(SLACK_SECRET, slackHeaders(nowSeconds - 301), BODY, NOW);
    assert.equal(stale.ok, false);
    assert.match(!stale.ok ? stale.problem : '', /301 s in the past, more than the 300 s allowed/);
    const future = verifySlackRequest(SLACK_SECRET, slackHeaders(nowSeconds + 301), BODY, NOW);
    assert.equal(future.ok, false);
    assert.match(!future.ok ? future.problem : '', /301 s in the future/);
    const garbled = verifySlackRequest(
      SLACK_SECRET,
      { ...slackHeaders(nowSeconds), 'x-slack-request-timestamp': `${nowSeconds}.5` },
      BODY,
      NOW,
    );
    assert.match(!garbled.ok ? garbled.problem : '', /not a number of seconds/);
  });

  test('missing headers are refused', () => {
    const headers = slackHeaders(nowSeconds);
    for (const missing of ['x-slack-request-timestamp', 'x-slack-signature']) {
      const rest = Object.fromEntries(Object.entries(headers).filter(([name]) => name !== missing));
      const result = verifySlackRequest(SLACK_SECRET, rest, BODY, NOW);
      assert.equal(result.ok, false, missing);
      assert.match(!result.ok ? result.problem : '', /missing X-Slack-Request-Timestamp or X-Slack-Signature/);
    }
  });

  test('every comparison, of any length, is of two 32-byte digests through crypto.timingSafeEqual', (t) => {
    const compare = t.mock.method(crypto, 'timingSafeEqual');
    const headers = slackHeaders(nowSeconds);
    const given = [
      headers['x-slack-signature']!,
      flip(headers['x-slack-signature']!),
      'v0=short',
      `${headers['x-slack-signature']}00`,
    ];
    const verdicts = given.map(
      (signature) => verifySlackRequest(SLACK_SECRET, { ...headers, 'x-slack-signature': signature }, BODY, NOW).ok,
    );
    assert.deepEqual(verdicts, [true, false, false, false]);
    assert.equal(
      compare.mock.callCount(),
      given.length,
      'one constant-time comparison per request, whatever the length given',
    );
    for (const call of compare.mock.calls)
      assert.deepEqual(
        call.arguments.map((b) => (b as Buffer).length),
        [32, 32],
      );
  });
});

describe('signed links', () => {
  const SECRET = 'link-secret-for-tests-0123456789';
  const base = 'https://writ.example.com';
  const grant = {
    format: 'csv' as LinkFormat,
    id: 'op/with ?odd=chars&..',
    requester: 'dana <ops>',
    expires: nowSeconds + 600,
  };
  const queryOf = (url: string) => new URL(url).searchParams;

  test('a link checks out for its format, id, requester and expiry, whatever characters they hold', () => {
    const url = signedUrl(base, SECRET, grant);
    assert.ok(url.startsWith(`${base}/evidence/records.csv?`), url);
    assert.deepEqual(checkLink(SECRET, 'csv', queryOf(url), NOW), { ok: true, grant });
  });

  test('a flipped character of the signature, or a changed id, requester or expiry, is refused', (t) => {
    const compare = t.mock.method(crypto, 'timingSafeEqual');
    const url = new URL(signedUrl(base, SECRET, grant));
    const variants: Array<[string, string]> = [
      ['sig', flip(url.searchParams.get('sig')!, 3)],
      ['id', 'op/with ?odd=chars&.'],
      ['by', 'dana <ops> '],
      ['exp', String(grant.expires + 3600)],
    ];
    for (const [name, value] of variants) {
      const query = new URLSearchParams(url.searchParams);
      query.set(name, value);
      const result = checkLink(SECRET, 'csv', query, NOW);
      assert.equal(result.ok, false, name);
      assert.match(!result.ok ? result.problem : '', /signature does not match/, name);
    }
    assert.equal(compare.mock.callCount(), variants.length, 'every signature is compared in constant time');
  });

  test('a link is good for its own format only, and only with the secret it was made with', () => {
    const query = queryOf(signedUrl(base, SECRET, grant));
    for (const format of ['timeline', 'json'] as const)
      assert.equal(checkLink(SECRET, format, query, NOW).ok, false, format);
    assert.equal(checkLink('another-secret-0123456789', 'csv', query, NOW).ok, false);
  });

  test('a link is refused from its expiry on, saying when it expired', () => {
    const query = queryOf(signedUrl(base, SECRET, grant));
    assert.equal(checkLink(SECRET, 'csv', query, grant.expires * 1000 - 1).ok, true);
    const expired = checkLink(SECRET, 'csv', query, grant.expires * 1000);
    assert.equal(expired.ok, false);
    assert.match(
      !expired.ok ? expired.problem : '',
      new RegExp(`expired at ${new Date(grant.expires * 1000).toISOString()}`),
    );
  });

  test('an address without the signed parameters is not a link', () => {
    const result = checkLink(SECRET, 'timeline', new URLSearchParams({ id: 'op-1' }), NOW);
    assert.match(!result.ok ? result.problem : '', /not a signed link/);
  });

  test('issuing links refuses a missing requester, an empty or overlong id and a lifetime past 90 days', () => {
    const request = { baseUrl: base, secret: SECRET, id: 'op-1', requester: 'dana', nowMs: NOW };
    const links = issueLinks(request);
    assert.equal(links.expires, nowSeconds + 24 * 3600, 'a day unless asked otherwise');
    assert.deepEqual(Object.keys(links).sort(), ['csv', 'expires', 'json', 'timeline']);
    assert.throws(() => issueLinks({ ...request, requester: '  ' }), /needs a requester/);
    assert.throws(() => issueLinks({ ...request, id: '' }), /no id given/);
    assert.throws(() => issueLinks({ ...request, id: 'x'.repeat(257) }), /at most 256 characters/);
    assert.throws(() => issueLinks({ ...request, ttlSeconds: MAX_LINK_TTL_SECONDS + 1 }), /longer than the 90 days/);
  });
});

describe('serve configuration', () => {
  test('durations, ports, public URLs and the link secret are checked with messages that say what to give', () => {
    assert.deepEqual(
      ['90s', '15m', '24h', '7d', '30'].map((value) => parseTtl(value)),
      [90, 900, 86_400, 604_800, 30],
    );
    assert.throws(() => parseTtl('1 week'), /--ttl must be a duration such as 90s, 15m, 24h or 7d, not "1 week"/);
    assert.throws(() => parseTtl('0s'), /--ttl must be a duration/);
    assert.equal(parsePort('0', '--port'), 0);
    assert.throws(() => parsePort('70000', '--port'), /--port must be a port number from 0 to 65535/);
    assert.equal(parsePublicUrl('https://writ.example.com/base/', '--public-url'), 'https://writ.example.com/base');
    assert.throws(() => parsePublicUrl('writ.example.com', '--public-url'), /must be an absolute http\(s\) URL/);
    assert.throws(() => parsePublicUrl('https://writ.example.com/?a=1', '--public-url'), /must not carry a query/);
    assert.throws(() => requireLinkSecret(undefined), /WRIT_LINK_SECRET is not set/);
    assert.throws(() => requireLinkSecret('short'), /at least 16/);
  });
});
