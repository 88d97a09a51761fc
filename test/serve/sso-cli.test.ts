import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startIdentityProvider } from '../../src/devstack/identity-provider.js';
import { REPO_ROOT, runWrit } from '../support/cli.js';
import { freshLedger, temporalAddress } from '../support/db.js';
import { LINK_SECRET } from './fixtures.js';

describe('writ serve with single sign-on configured from the environment', () => {
  test('serves the approval inbox behind a login at the configured provider, and refuses a half-made configuration', async (t) => {
    const ledger = await freshLedger(t);
    const dir = mkdtempSync(join(tmpdir(), 'writ-sso-cli-'));
    const made = await runWrit(['keygen', '--out', join(dir, 'keys'), '--name', 'serve']);
    assert.equal(made.code, 0, made.stderr);
    const channelKey = join(dir, 'keys', 'serve.key');
    const publicKey = createPublicKey(createPrivateKey(readFileSync(channelKey, 'utf8')));
    const idp = await startIdentityProvider({
      port: 0,
      people: [{ id: 'bob' }],
      clients: [{ clientId: 'writ-serve', redirectUris: ['http://127.0.0.1:1/callback'], grant: 'code' }],
    });
    t.after(() => idp.close());
    const approvers = join(dir, 'people.json');
    writeFileSync(
      approvers,
      JSON.stringify({
        approvers: [{ id: 'bob', groups: ['managers'], logins: [{ issuer: idp.issuer, subject: 'bob' }] }],
        identityProviders: [{ issuer: idp.issuer, audiences: ['writ-serve'] }],
        channels: [{ name: 'writ-serve', publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString() }],
      }),
    );
    const env = {
      DATABASE_URL: ledger.url,
      WRIT_LINK_SECRET: LINK_SECRET,
      WRIT_SLACK_SIGNING_SECRET: '',
      WRIT_PUBLIC_URL: '',
      TEMPORAL_ADDRESS: temporalAddress(),
      WRIT_OIDC_ISSUER: idp.issuer,
      WRIT_OIDC_CLIENT_ID: 'writ-serve',
      WRIT_CHANNEL_KEY: channelKey,
      WRIT_APPROVERS_FILE: approvers,
    };

    const half = await runWrit(['serve', '--port', '0'], { env: { ...env, WRIT_CHANNEL_KEY: '' } });
    assert.notEqual(half.code, 0);
    assert.match(half.stderr, /WRIT_OIDC_ISSUER is set, so writ serve signs approvers in, but WRIT_CHANNEL_KEY is not/);

    const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const child = spawn(process.execPath, [cli, 'serve', '--port', '0'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const found = /writ serve on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (found && /\n {2}approvals: .*\n/.test(output)) resolve(found[1]!);
        });
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        void exited.then((code) => reject(new Error(`writ serve exited early (${code}):\n${output}`)));
      });
      assert.match(output, new RegExp(`approvals: ${url}/approvals, signing in at ${idp.issuer}`));
      const inbox = await fetch(`${url}/approvals`, { redirect: 'manual' });
      assert.equal(inbox.status, 302);
      assert.equal(inbox.headers.get('location'), '/login?return=%2Fapprovals');
      const login = await fetch(`${url}/login?return=%2Fapprovals`, { redirect: 'manual' });
      assert.equal(login.status, 302);
      const authorize = new URL(login.headers.get('location')!);
      assert.equal(authorize.origin, idp.issuer);
      assert.equal(authorize.searchParams.get('client_id'), 'writ-serve');
      assert.equal(authorize.searchParams.get('redirect_uri'), `${url}/callback`);
      assert.match(login.headers.get('set-cookie') ?? '', /^writ_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax/);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, output);
    }
  });
});
