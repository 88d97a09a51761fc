import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { runConformance } from '../../src/connectors/conformance/index.js';
import { httpClient } from '../../src/connectors/http/client.js';
import { verifyRequested } from '../../src/connectors/http/compare.js';
import type { HttpConnectorOptions } from '../../src/connectors/http/index.js';
import { httpConnector } from '../../src/connectors/http/index.js';
import { mergePatch } from '../../src/connectors/http/merge-patch.js';
import type { ConnectorAction } from '../../src/connectors/types.js';
import type { Json, JsonObject } from '../../src/model/json.js';
import type { RestServer } from '../support/rest-server.js';
import { startRestServer } from '../support/rest-server.js';

let server: RestServer;
let baseUrl: string;
before(async () => {
  server = await startRestServer();
  // A path prefix, so targets are shown to resolve under it rather than at the origin's root.
  baseUrl = `${server.url}/api/`;
});
after(() => server.close());

const connector = (options: Partial<HttpConnectorOptions> = {}) => httpConnector({ baseUrl, ...options });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const actionOf = (name: string, options: Partial<HttpConnectorOptions> = {}): ConnectorAction<any> =>
  connector(options).actions[name]!;

const ACME: JsonObject = {
  name: 'Acme',
  tier: 'silver',
  balance: 10,
  address: { city: 'Bergen', zip: '5003' },
  tags: ['b2b'],
};

/** A fresh resource path; `state` puts it on the server first, as another writer would have. */
function resource(state: Json = null) {
  const target = `accounts/${randomUUID()}`;
  const path = `/api/${target}`;
  if (state !== null) server.setResource(path, state);
  return {
    target,
    path,
    // The API stores another tier than it was sent (and ignores deletes), and answers with what it stored.
    tamper: async () => {
      server.rewriteWrites(path, (next, current) =>
        next === undefined ? current : { ...(next as JsonObject), tier: 'rewritten' },
      );
      return async () => server.rewriteWrites(path, null);
    },
    readActual: async () => server.resources.get(path) ?? null,
    effects: async () => server.appliedWrites(path),
    writes: () => server.received.filter((request) => request.path === path && request.method !== 'GET'),
  };
}

const isInputError = (pattern: RegExp) => (error: Error) => {
  assert.equal(error.name, 'ConnectorInputError', error.message);
  assert.match(error.message, pattern);
  return true;
};

runConformance({
  name: 'http',
  connector: () => connector(),
  action: 'create',
  badParams: [
    { params: {}, field: 'body' },
    { params: { body: [1, 2] }, field: 'body' },
    { params: { body: {}, ifNoneMatch: '*' }, field: 'ifNoneMatch' },
  ],
  fixture: async () => {
    const r = resource();
    return {
      ...r,
      params: { body: { name: 'Initech', tier: 'bronze', tags: ['new'] } },
      drift: async () => server.setResource(r.path, { name: 'Initech', tier: 'drifted' }),
    };
  },
});

runConformance({
  name: 'http',
  connector: () => connector(),
  action: 'replace',
  badParams: [
    { params: { body: 'gold' }, field: 'body' },
    { params: { merge: { tier: 'gold' } }, field: 'merge' },
  ],
  fixture: async () => {
    const r = resource(ACME);
    return {
      ...r,
      params: { body: { name: 'Acme', tier: 'gold' } },
      drift: async () => server.setResource(r.path, { name: 'Acme', tier: 'drifted' }),
    };
  },
});

runConformance({
  name: 'http',
  connector: () => connector(),
  action: 'patch',
  badParams: [
    { params: { merge: {} }, field: 'merge' },
    { params: { merge: [1] }, field: 'merge' },
    { params: { merge: { tier: 'gold' }, body: {} }, field: 'body' },
  ],
  fixture: async () => {
    const r = resource(ACME);
    return {
      ...r,
      params: { merge: { tier: 'gold', balance: null, address: { city: 'Oslo' } } },
      drift: async () => server.setResource(r.path, { ...ACME, tier: 'drifted' }),
    };
  },
});

runConformance({
  name: 'http',
  connector: () => connector(),
  action: 'delete',
  badParams: [{ params: { force: true }, field: 'force' }],
  fixture: async () => {
    const r = resource(ACME);
    return { ...r, params: {}, drift: async () => server.setResource(r.path, { name: 'Resurrected' }) };
  },
});

describe('the http connector', () => {
  test('a replace, patch or delete after someone else changed the resource is refused, saying it changed since it was read', async () => {
    const calls = { replace: { body: { name: 'Acme', tier: 'gold' } }, patch: { merge: { tier: 'gold' } }, delete: {} };
    for (const [name, params] of Object.entries(calls)) {
      const r = resource(ACME);
      const action = actionOf(name);
      const call = { target: r.target, params };
      const snapshot = await action.snapshot(call);
      server.setResource(r.path, { ...ACME, tier: 'platinum' });
      await assert.rejects(
        action.execute(call, { idempotencyKey: randomUUID(), before: snapshot }),
        isInputError(/changed since it was read/),
      );
      assert.deepEqual(
        await r.readActual(),
        { ...ACME, tier: 'platinum' },
        `${name} left the other writer's change alone`,
      );
      assert.equal(server.appliedWrites(r.path), 0);
      assert.equal(r.writes()[0]?.headers['if-match'], snapshot.version, `${name} sent the ETag it read`);
    }
  });

  test('transient 503s are retried under the same Idempotency-Key and the write applies once', async () => {
    const r = resource(ACME);
    const action = actionOf('patch');
    const call = { target: r.target, params: { merge: { tier: 'gold' } } };
    const snapshot = await action.snapshot(call);
    server.failNext(2, 503);
    const execution = await action.execute(call, { idempotencyKey: 'op-503/step/0', before: snapshot });
    assert.deepEqual(execution.after, { ...ACME, tier: 'gold' });
    assert.equal(execution.detail?.attempts, 3);
    assert.equal(server.appliedWrites(r.path), 1);
    assert.deepEqual(
      r.writes().map((request) => request.idempotencyKey),
      ['op-503/step/0', 'op-503/step/0', 'op-503/step/0'],
    );
  });

  test('a write whose answer was lost after the server applied it is retried and applies once', async () => {
    const r = resource();
    const action = actionOf('create');
    const call = { target: r.target, params: { body: { name: 'Initech' } } };
    const snapshot = await action.snapshot(call);
    server.failNext(1, 502, { afterApplying: true });
    const execution = await action.execute(call, { idempotencyKey: randomUUID(), before: snapshot });
    assert.deepEqual(execution.after, { name: 'Initech' });
    assert.equal(execution.detail?.status, 201, 'the retry got the first answer back');
    assert.equal(r.writes().length, 2);
    assert.equal(server.appliedWrites(r.path), 1);
  });

  test('503s outlasting the retries fail with an error a later retry may fix, not a refusal', async () => {
    const r = resource(ACME);
    const action = actionOf('replace', { retries: 1 });
    const call = { target: r.target, params: { body: { name: 'Acme' } } };
    const snapshot = await action.snapshot(call);
    server.failNext(5, 503);
    try {
      await assert.rejects(action.execute(call, { idempotencyKey: randomUUID(), before: snapshot }), (error: Error) => {
        assert.notEqual(error.name, 'ConnectorInputError');
        assert.match(error.message, /503.*after 2 attempts/);
        return true;
      });
    } finally {
      server.failNext(0);
    }
    assert.equal(r.writes().length, 2);
    assert.deepEqual(await r.readActual(), ACME);
  });

  test('a 4xx is refused at once and never retried', async () => {
    for (const status of [400, 409, 422]) {
      const r = resource(ACME);
      const action = actionOf('replace');
      const call = { target: r.target, params: { body: { name: 'Acme' } } };
      const snapshot = await action.snapshot(call);
      server.failNext(1, status);
      await assert.rejects(
        action.execute(call, { idempotencyKey: randomUUID(), before: snapshot }),
        isInputError(new RegExp(`got ${status}`)),
      );
      assert.equal(r.writes().length, 1, `${status} was sent once`);
      assert.equal(server.appliedWrites(r.path), 0);
    }
  });

  test('a 500 is not retried, since only 502, 503 and 504 say the server did not get to decide', async () => {
    const r = resource(ACME);
    const action = actionOf('patch');
    const call = { target: r.target, params: { merge: { tier: 'gold' } } };
    const snapshot = await action.snapshot(call);
    server.failNext(1, 500);
    await assert.rejects(
      action.execute(call, { idempotencyKey: randomUUID(), before: snapshot }),
      (error: Error) => error.name !== 'ConnectorInputError' && /got 500/.test(error.message),
    );
    assert.equal(r.writes().length, 1);
  });

  test('a hanging server times out with a clear error, after retrying under the same key', async () => {
    const r = resource(ACME);
    const action = actionOf('patch', { timeoutMs: 150, retries: 1 });
    const call = { target: r.target, params: { merge: { tier: 'gold' } } };
    const snapshot = await action.snapshot(call);
    server.hangNext(2);
    const started = Date.now();
    await assert.rejects(
      action.execute(call, { idempotencyKey: 'op-hang/step/0', before: snapshot }),
      (error: Error) => {
        assert.notEqual(error.name, 'ConnectorInputError', 'a time-out may pass: it is not a refusal');
        assert.match(
          error.message,
          /^PATCH http:\/\/127\.0\.0\.1:\d+\/api\/accounts\/[\w-]+: no response within 150 ms \(2 attempts\)$/,
        );
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000, 'it gave up instead of waiting for the server');
    assert.deepEqual(
      r.writes().map((request) => request.idempotencyKey),
      ['op-hang/step/0', 'op-hang/step/0'],
    );
    assert.deepEqual(await r.readActual(), ACME);
  });

  test('every write request carries an Idempotency-Key, and a retried one carries the same key', async () => {
    const r = resource();
    const run = async (name: string, params: JsonObject, failure?: number) => {
      const action = actionOf(name);
      const call = { target: r.target, params };
      const snapshot = await action.snapshot(call);
      if (failure) server.failNext(1, failure, { writes: true });
      const key = randomUUID();
      const execution = await action.execute(call, { idempotencyKey: key, before: snapshot });
      return { action, call, snapshot, key, execution };
    };
    await run('create', { body: { name: 'Initech' } }, 503);
    await run('replace', { body: { name: 'Initech', tier: 'gold' } });
    await run('patch', { merge: { tier: 'platinum' } }, 504);
    const deletion = await run('delete', {}, 503);
    server.failNext(1, 503, { writes: true });
    await deletion.action.rollback(deletion.call, {
      idempotencyKey: deletion.key,
      before: deletion.snapshot,
      execution: deletion.execution,
    });

    const writes = r.writes();
    assert.equal(writes.length, 9, 'five writes, four of them sent twice');
    for (const write of writes)
      assert.ok(write.idempotencyKey, `${write.method} ${write.path} carried an Idempotency-Key`);
    const requestsByKey = new Map<string | undefined, Set<string>>();
    for (const write of writes)
      requestsByKey.set(
        write.idempotencyKey,
        (requestsByKey.get(write.idempotencyKey) ?? new Set()).add(`${write.method} ${write.body}`),
      );
    assert.equal(requestsByKey.size, 5, 'one key per write');
    for (const requests of requestsByKey.values())
      assert.equal(requests.size, 1, 'the copies under one key are the same request');
    assert.equal(server.appliedWrites(r.path), 5);
    assert.deepEqual(
      await r.readActual(),
      { name: 'Initech', tier: 'platinum' },
      'the rollback re-created what was deleted',
    );
  });

  test('the HTTP client never repeats a write that has no Idempotency-Key, though it repeats a GET', async () => {
    const r = resource(ACME);
    const send = httpClient({ headers: {}, timeoutMs: 1000, retries: 3, fetch, backoffMs: 1 });
    server.failNext(1, 503);
    const write = await send({ method: 'PUT', url: new URL(`${server.url}${r.path}`), body: { name: 'Acme' } });
    assert.equal(write.status, 503);
    assert.equal(write.attempts, 1);
    assert.equal(r.writes().length, 1);
    assert.deepEqual(await r.readActual(), ACME);
    server.failNext(1, 503);
    const read = await send({ method: 'GET', url: new URL(`${server.url}${r.path}`) });
    assert.equal(read.status, 200);
    assert.equal(read.attempts, 2);
  });

  test('absolute URLs, paths leaving the base URL and dot segments are refused as targets, naming the target', async () => {
    const bad = [
      'http://evil.example/accounts/1',
      'HTTPS://evil.example/',
      '//evil.example/accounts/1',
      '/admin/users',
      'accounts/../admin',
      '..',
      'accounts/..',
      './accounts/1',
      'accounts/%2e%2E/admin',
      'accounts\\..\\admin',
      'accounts%2f..%2fadmin',
      'mailto:ops@example.com',
      '',
      'accounts/1#x',
    ];
    const seen = server.received.length;
    for (const name of ['create', 'replace', 'patch', 'delete']) {
      const action = actionOf(name);
      for (const target of bad) {
        const call = {
          target,
          params: name === 'patch' ? { merge: { a: 1 } } : name === 'delete' ? {} : { body: { a: 1 } },
        };
        assert.throws(
          () => action.identity(call),
          (error: Error) =>
            error.name === 'ConnectorInputError' && error.message.startsWith(`target ${JSON.stringify(target)} `),
          `${name} refuses ${target}`,
        );
        await assert.rejects(action.snapshot(call), isInputError(/^target /));
        await assert.rejects(
          action.execute(call, { idempotencyKey: randomUUID(), before: { version: 'absent', state: null } }),
          isInputError(/^target /),
        );
      }
    }
    assert.equal(server.received.length, seen, 'no request was sent for a refused target');
  });

  test('create refuses a resource that already exists, and validate says so first', async () => {
    const r = resource(ACME);
    const action = actionOf('create');
    const call = { target: r.target, params: { body: { name: 'Initech' } } };
    assert.deepEqual(await action.validate(call), [`${r.target} already exists; use replace or patch`]);
    await assert.rejects(
      action.execute(call, { idempotencyKey: randomUUID(), before: { version: 'absent', state: null } }),
      isInputError(/already exists, so it was not created/),
    );
    assert.equal(r.writes()[0]?.headers['if-none-match'], '*');
    assert.deepEqual(await r.readActual(), ACME);
  });

  test('replace, patch and delete of a missing resource are refused, saying it does not exist', async () => {
    const calls = { replace: { body: { name: 'Acme' } }, patch: { merge: { tier: 'gold' } }, delete: {} };
    for (const [name, params] of Object.entries(calls)) {
      const r = resource();
      const action = actionOf(name);
      const call = { target: r.target, params };
      assert.deepEqual(await action.validate(call), [`${r.target} does not exist; use create`]);
      const snapshot = await action.snapshot(call);
      assert.deepEqual(snapshot, { version: 'absent', state: null });
      await assert.rejects(
        action.execute(call, { idempotencyKey: randomUUID(), before: snapshot }),
        isInputError(/does not exist/),
      );
      assert.equal(r.writes()[0]?.headers['if-match'], '*', `${name} only applies to a resource that exists`);
      assert.equal(await r.readActual(), null, `${name} did not create it`);
    }
  });

  test('a dry run computes the merge patch locally and sends nothing', async () => {
    const r = resource(ACME);
    const action = actionOf('patch');
    const call = { target: r.target, params: { merge: { tier: 'gold', tags: null, address: { zip: null } } } };
    const snapshot = await action.snapshot(call);
    const seen = server.received.length;
    const preview = await action.preview(call, snapshot);
    assert.equal(server.received.length, seen, 'no request at all');
    assert.deepEqual(preview.before, ACME);
    assert.deepEqual(preview.after, { name: 'Acme', tier: 'gold', balance: 10, address: { city: 'Bergen' } });
    assert.equal(preview.summary, `would patch ${r.target} with PATCH (address, tags, tier)`);
  });

  test('JSON merge patch follows the examples of RFC 7396', () => {
    const examples: Array<[Json, Json, Json]> = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [
        ['a', 'b'],
        ['c', 'd'],
        ['c', 'd'],
      ],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, result] of examples)
      assert.deepEqual(mergePatch(target, patch), result, `${JSON.stringify(patch)} on ${JSON.stringify(target)}`);
    const merged = mergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}') as Json) as JsonObject;
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'a __proto__ member stays data');
    assert.deepEqual(Object.keys(merged), ['__proto__']);
  });

  test('a rollback retried with the same key puts the before state back once', async () => {
    const r = resource(ACME);
    const action = actionOf('replace');
    const call = { target: r.target, params: { body: { name: 'Acme', tier: 'gold' } } };
    const snapshot = await action.snapshot(call);
    const key = randomUUID();
    const execution = await action.execute(call, { idempotencyKey: key, before: snapshot });
    server.failNext(1, 503, { afterApplying: true });
    const first = await action.rollback(call, { idempotencyKey: key, before: snapshot, execution });
    const second = await action.rollback(call, { idempotencyKey: key, before: snapshot, execution });
    assert.deepEqual(first.restored, ACME);
    assert.deepEqual(second.restored, ACME);
    assert.equal(second.detail?.alreadyRestored, true);
    assert.equal(server.appliedWrites(r.path), 2, 'the write and one restore');
    assert.deepEqual(
      r.writes().map((write) => write.idempotencyKey),
      [key, `${key}/rollback`, `${key}/rollback`],
    );
  });

  test('verify says in plain words which asked-for members the resource does not hold', async () => {
    const r = resource(ACME);
    const action = actionOf('patch');
    const call = { target: r.target, params: { merge: { tier: 'gold', balance: null } } };
    const snapshot = await action.snapshot(call);
    const execution = await action.execute(call, { idempotencyKey: randomUUID(), before: snapshot });
    assert.equal((await action.verify(call, { before: snapshot, execution })).ok, true);
    server.setResource(r.path, { ...ACME, tier: 'bronze', balance: 0 });
    const drifted = await action.verify(call, { before: snapshot, execution });
    assert.equal(drifted.reason, `${r.target} does not hold what was asked in balance, tier`);
    server.setResource(r.path, null);
    assert.equal(
      (await action.verify(call, { before: snapshot, execution })).reason,
      `${r.target} does not exist after the write`,
    );
  });

  test('verify checks the members the request set, whatever the API answered, and leaves members the API adds alone', () => {
    const returned = { name: 'Acme', id: 42, updatedAt: '2025-01-01T00:00:00Z' };
    assert.equal(
      verifyRequested('accounts/42', returned, { put: { name: 'Acme' } }).ok,
      true,
      "an id and a timestamp of its own are the API's business",
    );
    assert.equal(
      verifyRequested('accounts/42', { ...returned, name: 'ACME' }, { put: { name: 'Acme' } }).ok,
      false,
      'a normalised value is not what was asked',
    );
    assert.equal(
      verifyRequested('accounts/42', { name: 'Acme', tier: 9 }, { put: { name: 'Acme', tier: 9.0 } }).ok,
      true,
      'equal JSON numbers are equal',
    );
    assert.equal(
      verifyRequested('accounts/42', { name: 'Acme', tier: '9' }, { put: { name: 'Acme', tier: 9 } }).ok,
      false,
      'a string is not a number',
    );
    const merged = { name: 'Acme', address: { city: 'Oslo', zip: '5003' } };
    assert.equal(
      verifyRequested('accounts/42', merged, { merge: { address: { city: 'Oslo' }, tags: null } }).ok,
      true,
      'a merge patch holds: set members equal, removed ones absent',
    );
    assert.equal(
      verifyRequested('accounts/42', { ...merged, tags: [] }, { merge: { tags: null } }).reason,
      'accounts/42 does not hold what was asked in tags',
      'a member the patch removed is still there',
    );
    assert.equal(verifyRequested('accounts/42', { name: 'x' }, { delete: true }).ok, false);
  });

  test('identity names the resource under the base URL', () => {
    assert.equal(
      actionOf('replace').identity({ target: 'accounts/42', params: {} }),
      `http:${server.url}/api/accounts/42`,
    );
    assert.equal(
      httpConnector({ baseUrl: `${server.url}/api` }).actions.delete!.identity({ target: 'accounts/42', params: {} }),
      `http:${server.url}/api/accounts/42`,
      'with or without the trailing slash',
    );
  });

  test('headers given in the options are sent with every request', async () => {
    const r = resource(ACME);
    const action = actionOf('patch', { headers: { Authorization: 'Bearer t0ken' } });
    const call = { target: r.target, params: { merge: { tier: 'gold' } } };
    const snapshot = await action.snapshot(call);
    await action.execute(call, { idempotencyKey: randomUUID(), before: snapshot });
    const requests = server.received.filter((request) => request.path === r.path);
    assert.equal(requests.length, 2);
    for (const request of requests) assert.equal(request.headers.authorization, 'Bearer t0ken');
  });

  test('a resource served without an ETag cannot be written, since changes by others would go unseen', async () => {
    const r = resource(ACME);
    const withoutEtag: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const headers = new Headers(response.headers);
      headers.delete('etag');
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    };
    const action = actionOf('replace', { fetch: withoutEtag });
    const call = { target: r.target, params: { body: { name: 'Acme' } } };
    await assert.rejects(action.validate(call), isInputError(/no ETag/));
    await assert.rejects(action.snapshot(call), isInputError(/no ETag/));
  });

  test('a redirect is reported instead of followed', async () => {
    const redirecting: typeof fetch = async () =>
      new Response(null, { status: 307, headers: { location: 'http://elsewhere.example/accounts/1' } });
    await assert.rejects(
      actionOf('replace', { fetch: redirecting }).snapshot({ target: 'accounts/1', params: {} }),
      isInputError(/redirect to http:\/\/elsewhere\.example\/accounts\/1/),
    );
  });

  test('an API that echoes the credential, or redirects to a signed URL, does not get either into the error that is recorded', async () => {
    const echoing: typeof fetch = async (_input, init) =>
      new Response(JSON.stringify({ error: `bad token ${new Headers(init?.headers).get('authorization')}` }), {
        status: 401,
        headers: { 'content-type': 'application/json' },
      });
    await assert.rejects(
      actionOf('replace', { fetch: echoing, headers: { Authorization: 'Bearer sk_live_0123456789' } }).snapshot({
        target: 'accounts/1',
        params: {},
      }),
      (error: Error) => {
        assert.equal(error.name, 'ConnectorInputError');
        assert.match(error.message, /got 401/);
        assert.doesNotMatch(error.message, /sk_live_0123456789/);
        return true;
      },
    );
    const signed: typeof fetch = async () =>
      new Response(null, {
        status: 302,
        headers: { location: 'https://cdn.example/accounts/1?X-Amz-Signature=deadbeef&token=s3cret' },
      });
    await assert.rejects(
      actionOf('replace', { fetch: signed }).snapshot({ target: 'accounts/1', params: {} }),
      (error: Error) => {
        assert.match(error.message, /redirect to https:\/\/cdn\.example\/accounts\/1\?…/);
        assert.doesNotMatch(error.message, /s3cret|deadbeef/);
        return true;
      },
    );
  });

  test('a baseUrl carrying credentials is refused, since identities are recorded in the ledger', () => {
    assert.throws(() => httpConnector({ baseUrl: 'https://user:secret@api.example/' }), /credentials in headers/);
    assert.throws(() => httpConnector({ baseUrl: 'https://api.example/?access_token=secret' }), /cannot have a query/);
  });
});
