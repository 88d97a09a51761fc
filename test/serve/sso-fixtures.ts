import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { DevIdentityProvider } from '../../src/devstack/identity-provider.js';
import { startIdentityProvider } from '../../src/devstack/identity-provider.js';
import { peopleOf } from '../../src/identity/people.js';
import { parseDirectory } from '../../src/approvals/directory.js';
import { parseRequest } from '../../src/model/request.js';
import type { OperationRequestInput } from '../../src/model/request.js';
import type { RunningServe } from '../../src/serve/server.js';
import { startServe } from '../../src/serve/server.js';
import { requestMessage } from '../../src/verify/request-signature.js';
import { launchChromium } from '../support/browser.js';
import type { WritHarness } from '../support/writ.js';
import { startWrit, updateTier, waitForState } from '../support/writ.js';
import { LINK_SECRET } from './fixtures.js';

export const CLIENT_ID = 'writ-serve';
export const CHANNEL = 'writ-serve';

type TestContextLike = { after: (fn: () => Promise<void>) => void };

export interface SsoStack {
  harness: WritHarness;
  idp: DevIdentityProvider;
  serve: RunningServe;
  browser: Browser;
  /** Where this test's screenshots go. */
  dir: string;
  /** Moves writ serve's clock (not the worker's, nor the provider's). */
  skewServeClock(ms: number): void;
  /** Starts alice's operation, signed with her key, and waits until it awaits approval. */
  requestByAlice(overrides?: Partial<OperationRequestInput>): Promise<string>;
  /** Opens `path` of writ serve in a fresh browser context and signs in at the provider as `person`. */
  signIn(person: string, path: string): Promise<Page>;
}

/** One rule: a manager approves any change to an account; identities verified (the default). */
export function policy(approvals: Record<string, unknown> = {}) {
  return {
    id: 'sso-policy',
    rules: [
      {
        name: 'account-changes-need-a-manager',
        match: { connector: 'postgres', action: 'update', target: 'public.accounts/*' },
        risk: 'high',
        approvals: { required: 1, fromGroups: ['managers'], windowMs: 600_000, ...approvals },
      },
    ],
  };
}

/**
 * The whole single sign-on story on this machine: a real OpenID provider with bob and alice, the
 * worker on real Temporal and PostgreSQL with a directory that trusts the provider and pins writ
 * serve's channel key, writ serve itself, and headless Chromium.
 */
export async function ssoStack(
  t: TestContextLike,
  approvals: Record<string, unknown> = {},
  idTokenTtlSeconds?: number,
): Promise<SsoStack> {
  const dir = mkdtempSync(join(tmpdir(), 'writ-sso-'));
  const channelKey = generateKeyPairSync('ed25519');
  const alice = generateKeyPairSync('ed25519');
  const servePort = await freePort();
  const idp = await startIdentityProvider({
    people: [
      { id: 'bob', email: 'bob@example.com' },
      { id: 'alice', email: 'alice@example.com' },
    ],
    clients: [{ clientId: CLIENT_ID, redirectUris: [`http://127.0.0.1:${servePort}/callback`], grant: 'code' }],
    ...(idTokenTtlSeconds ? { idTokenTtlSeconds } : {}),
  });
  t.after(() => idp.close());
  const directory = {
    approvers: [
      // bob is known by his verified email, alice by her subject: both ways a login maps.
      { id: 'bob', groups: ['managers'], email: 'bob@example.com' },
      {
        id: 'alice',
        groups: ['managers'],
        logins: [{ issuer: idp.issuer, subject: 'alice' }],
        publicKey: pem(alice.publicKey),
      },
    ],
    identityProviders: [{ issuer: idp.issuer, audiences: [CLIENT_ID] }],
    channels: [{ name: CHANNEL, publicKey: pem(channelKey.publicKey) }],
  };
  const harness = await startWrit(t, { policy: policy(approvals), approvers: directory });
  let skew = 0;
  const serve = await startServe({
    pool: harness.ledger.pool,
    port: servePort,
    linkSecret: LINK_SECRET,
    now: () => Date.now() + skew,
    sso: {
      issuer: idp.issuer,
      clientId: CLIENT_ID,
      channel: { name: CHANNEL, privateKey: channelKey.privateKey },
      writ: harness.writ,
      people: async () => peopleOf(parseDirectory(directory)),
    },
  });
  t.after(() => serve.close());
  const browser = await launchChromium();
  t.after(() => browser.close());
  return {
    harness,
    idp,
    serve,
    browser,
    dir,
    skewServeClock: (ms) => void (skew = ms),
    requestByAlice: async (overrides = {}) => {
      const started = await harness.writ.start(signedRequest(updateTier(overrides), alice.privateKey));
      await waitForState(harness.writ, started.operationId, 'awaiting_approval');
      return started.operationId;
    },
    signIn: async (person, path) => {
      const context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
      t.after(() => context.close());
      const page = await context.newPage();
      await page.goto(`${serve.url}${path}`);
      assert.match(await page.locator('h1').innerText(), /Development identity provider/);
      await page.fill('input[name=person]', person);
      await Promise.all([page.waitForURL(`${serve.url}${path}`), page.click('button[type=submit]')]);
      return page;
    },
  };
}

/** A request with alice's key proof: her signature over the request as the worker will parse it. */
function signedRequest(input: OperationRequestInput, key: KeyObject): OperationRequestInput {
  const operationId = `op-${Math.random().toString(36).slice(2, 10)}`;
  const parsed = parseRequest({ ...input, operationId });
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.problem);
  const signature = sign(null, requestMessage({ ...parsed.request, operationId }), key).toString('base64');
  return { ...input, operationId, identity: { kind: 'key', signature } };
}

function pem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }).toString();
}

/** A port nothing listens on now: the provider must know writ serve's redirect URI before serve starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
