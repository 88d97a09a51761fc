import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { requestTimestamp } from '../../src/evidence/tsa-client.js';
import { sha256Hex } from '../../src/verify/hash.js';
import { runWrit } from '../support/cli.js';
import { tamper } from '../support/records.js';
import { reissuedTsaCert } from '../support/tsa-certs.js';
import { codes, ledgerWith, python, stampedBundle, timestampsOf, tsaFor, verifyBundle } from '../support/tsa-bundle.js';

describe('trusted time in evidence bundles', () => {
  test('a bundle carries the tokens of its checkpoint and the one before; Node and Python check them against the pinned TSA', async (t) => {
    const tsa = await tsaFor(t);
    const { out, env, verifierKey } = await stampedBundle(t, tsa);
    const file = timestampsOf(out);
    assert.equal(file.checkpoint, 8);
    assert.deepEqual(
      file.stamps.map((s) => s.size),
      [5, 8],
    );
    assert.equal(file.stamps[1]!.note, readFileSync(join(out, 'checkpoint.txt'), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { files: Array<{ name: string }> };
    assert.ok(manifest.files.some((f) => f.name === 'timestamps.json'));

    const pinned = await verifyBundle(out, env, tsa.certFile);
    assert.equal(pinned.code, 0, pinned.stdout + pinned.stderr);
    assert.deepEqual(pinned.verdict.findings, []);
    assert.equal(pinned.verdict.timestamps.tokens, 2);
    assert.equal(pinned.verdict.timestamps.signaturesChecked, true);
    assert.match(pinned.verdict.timestamps.checkpointGenTime ?? '', /^\d{4}-\d\d-\d\dT/);
    const text = await runWrit(['verify-bundle', out], { env: { ...env, WRIT_TSA_CERT: tsa.certPem } });
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(text.stdout, /checkpoint 8 time-stamped \S+ by the pinned time-stamp authority/);
    const py = await python(out, verifierKey, tsa.certFile);
    assert.equal(py.code, 0, py.stdout + py.stderr);
    assert.match(py.stdout, /checkpoint 8 time-stamped \S+ by the pinned time-stamp authority/);

    // Without a pinned certificate the tokens are reported as not checked, never as verified.
    const unpinned = await runWrit(['verify-bundle', out], { env });
    assert.equal(unpinned.code, 0, unpinned.stdout + unpinned.stderr);
    assert.match(unpinned.stdout, /time-stamp not checked \(no TSA certificate pinned\)/);
    assert.doesNotMatch(unpinned.stdout, /by the pinned time-stamp authority/);
    const pyUnpinned = await python(out, verifierKey);
    assert.equal(pyUnpinned.code, 0, pyUnpinned.stdout + pyUnpinned.stderr);
    assert.match(pyUnpinned.stdout, /time-stamp not checked \(no TSA certificate pinned\)/);
  });

  test('tokens from another authority are refused against the pinned one', async (t) => {
    const pinned = await tsaFor(t, 'acme');
    const other = await tsaFor(t, 'mallory');
    const { out, env, verifierKey } = await stampedBundle(t, other);
    const result = await verifyBundle(out, env, pinned.certFile);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.deepEqual(codes(result.verdict), [
      'timestamps.json TIMESTAMP_UNTRUSTED',
      'timestamps.json TIMESTAMP_UNTRUSTED',
    ]);
    const py = await python(out, verifierKey, pinned.certFile);
    assert.equal(py.code, 1, py.stdout + py.stderr);
    assert.match(py.stdout, /timestamps\.json: TIMESTAMP_UNTRUSTED: checkpoint 5/);
    // The same bundle verifies against the authority that made the tokens: the refusal is the pin's doing.
    assert.equal((await verifyBundle(out, env, other.certFile)).code, 0);
    assert.equal((await python(out, verifierKey, other.certFile)).code, 0);
  });

  test("a token for another checkpoint's bytes, put in the ledger before export, is refused", async (t) => {
    const tsa = await tsaFor(t);
    const { out, env, verifierKey } = await stampedBundle(t, tsa, async ({ ledger, env: e }) => {
      const second = await runWrit(['checkpoint'], { env: e });
      assert.equal(second.code, 0, second.stdout + second.stderr);
      await tamper(
        ledger.pool,
        `UPDATE writ.checkpoint_timestamps SET token = (SELECT token FROM writ.checkpoint_timestamps WHERE size = 5)
          WHERE size = 8`,
      );
    });
    const result = await verifyBundle(out, env, tsa.certFile);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.deepEqual(codes(result.verdict), ['timestamps.json TIMESTAMP_OTHER_BYTES']);
    assert.match(result.verdict.findings[0]!.problem, /^checkpoint 8: /);
    const py = await python(out, verifierKey, tsa.certFile);
    assert.equal(py.code, 1, py.stdout + py.stderr);
    assert.match(py.stdout, /TIMESTAMP_OTHER_BYTES: checkpoint 8/);
    // The imprint needs no pinned certificate.
    assert.equal((await verifyBundle(out, env)).verdict.findings[0]?.code, 'TIMESTAMP_OTHER_BYTES');
    assert.equal((await python(out, verifierKey)).code, 1);
  });

  test('a checkpoint stamped before the one it extends is refused as out of order', async (t) => {
    const tsa = await tsaFor(t);
    const { out, env, verifierKey } = await stampedBundle(t, tsa, async ({ ledger, env: e }) => {
      const second = await runWrit(['checkpoint'], { env: e });
      assert.equal(second.code, 0, second.stdout + second.stderr);
      // The owner swaps checkpoint 5's token for a genuine one obtained after checkpoint 8's.
      const five = await ledger.pool.query<{ note: string }>('SELECT note FROM writ.checkpoints WHERE size = 5');
      await new Promise((resolve) => setTimeout(resolve, 20));
      const late = await requestTimestamp(tsa.url, five.rows[0]!.note);
      await tamper(ledger.pool, 'UPDATE writ.checkpoint_timestamps SET token = $1, gen_time = $2 WHERE size = 5', [
        late.token,
        late.genTime,
      ]);
    });
    const result = await verifyBundle(out, env, tsa.certFile);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.deepEqual(codes(result.verdict), ['timestamps.json TIMESTAMP_OUT_OF_ORDER']);
    const py = await python(out, verifierKey, tsa.certFile);
    assert.equal(py.code, 1, py.stdout + py.stderr);
    assert.match(py.stdout, /TIMESTAMP_OUT_OF_ORDER: checkpoint 8/);
  });

  test('a pinned certificate for the same key but not for time-stamping, or not valid then, is refused', async (t) => {
    const tsa = await tsaFor(t);
    const { out, env, verifierKey } = await stampedBundle(t, tsa);
    const noEku = await reissuedTsaCert(
      tsa,
      'tls',
      'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth',
      2,
    );
    const expired = await reissuedTsaCert(tsa, 'expired', 'extendedKeyUsage=critical,timeStamping', -1);
    for (const [cert, code] of [
      [noEku, 'TIMESTAMP_CERT_PURPOSE'],
      [expired, 'TIMESTAMP_CERT_EXPIRED'],
    ] as const) {
      const result = await verifyBundle(out, env, cert);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.deepEqual(codes(result.verdict), [`timestamps.json ${code}`, `timestamps.json ${code}`]);
      const py = await python(out, verifierKey, cert);
      assert.equal(py.code, 1, py.stdout + py.stderr);
      assert.match(py.stdout, new RegExp(`timestamps\\.json: ${code}`));
      // writ verify applies the same rules to the ledger's tokens.
      const ledger = await runWrit(['verify', '--json', '--tsa-cert', cert], { env });
      assert.equal(ledger.code, 1, ledger.stdout + ledger.stderr);
      const report = JSON.parse(ledger.stdout) as { findings: Array<{ code: string; size: number }> };
      assert.deepEqual(
        report.findings.map((f) => [f.code, f.size]),
        [
          [code, 5],
          [code, 8],
        ],
      );
    }
  });

  test('a token swapped into the bundle after export breaks the manifest, and its signature', async (t) => {
    const tsa = await tsaFor(t);
    const { out, env, verifierKey } = await stampedBundle(t, tsa);
    const file = timestampsOf(out);
    // A genuine token from the pinned authority for the same checkpoint, only later.
    const later = await requestTimestamp(tsa.url, file.stamps[1]!.note);
    file.stamps[1]!.token = later.token.toString('base64');
    const swapped = Buffer.from(`${JSON.stringify(file, null, 1)}\n`, 'utf8');
    writeFileSync(join(out, 'timestamps.json'), swapped);
    const result = await verifyBundle(out, env, tsa.certFile);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.deepEqual(codes(result.verdict), ['timestamps.json FILE_DIGEST_MISMATCH']);
    assert.equal((await python(out, verifierKey, tsa.certFile)).code, 1);

    // Fixing the manifest's entry too leaves a manifest the signature does not cover.
    const manifestPath = join(out, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
      files: Array<{ name: string; sha256: string; size: number }>;
    };
    const entry = manifest.files.find((f) => f.name === 'timestamps.json')!;
    Object.assign(entry, { sha256: sha256Hex(swapped), size: swapped.length });
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 1)}\n`);
    const resigned = await verifyBundle(out, env, tsa.certFile);
    assert.equal(resigned.code, 1, resigned.stdout + resigned.stderr);
    assert.deepEqual(codes(resigned.verdict), ['manifest.json MANIFEST_DIGEST_MISMATCH']);
    const py = await python(out, verifierKey, tsa.certFile);
    assert.equal(py.code, 1, py.stdout + py.stderr);
    assert.match(py.stdout, /manifest\.json: its SHA-256 is not the signed one/);
  });

  test('export stamps the checkpoint it signs; with the TSA down it keeps both, warns, and the bundle says so', async (t) => {
    const tsa = await tsaFor(t);
    tsa.mode = 'error500';
    const setup = await ledgerWith(t, tsa.url);
    await setup.append(1, 4);
    const { out, result } = await setup.exportBundle();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stderr, /warning: checkpoint main@4 covers the export but is not time-stamped .*HTTP 500/);
    const count = await setup.ledger.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM writ.checkpoints');
    assert.equal(count.rows[0]!.n, 1);
    const file = timestampsOf(out);
    assert.deepEqual([file.checkpoint, file.stamps], [4, []]);
    assert.match(file.unstamped ?? '', /did not stamp it at export: .*HTTP 500/);

    const unpinned = await runWrit(['verify-bundle', out], { env: setup.env });
    assert.equal(unpinned.code, 0, unpinned.stdout + unpinned.stderr);
    assert.match(unpinned.stderr, /warning: checkpoint 4 carries no time-stamp token \(the time-stamp authority/);
    const pinned = await verifyBundle(out, setup.env, tsa.certFile);
    assert.equal(pinned.code, 1, pinned.stdout + pinned.stderr);
    assert.deepEqual(codes(pinned.verdict), ['timestamps.json TIMESTAMP_MISSING']);
    const py = await python(out, setup.verifierKey, tsa.certFile);
    assert.equal(py.code, 1, py.stdout + py.stderr);
    assert.match(py.stdout, /TIMESTAMP_MISSING/);

    // Once the authority answers, the next export stamps the same checkpoint.
    tsa.mode = 'ok';
    const again = await setup.exportBundle();
    assert.equal(again.result.code, 0, again.result.stdout + again.result.stderr);
    assert.doesNotMatch(again.result.stderr, /not time-stamped/);
    assert.equal((await verifyBundle(again.out, setup.env, tsa.certFile)).code, 0);
  });

  test('a bundle from a ledger without time-stamps has no timestamps.json; with a pinned TSA that is a finding', async (t) => {
    const tsa = await tsaFor(t);
    const setup = await ledgerWith(t, undefined);
    await setup.append(1, 3);
    const { out, result } = await setup.exportBundle();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.throws(() => readFileSync(join(out, 'timestamps.json')), /ENOENT/);
    assert.equal((await verifyBundle(out, setup.env)).code, 0);
    const pinned = await verifyBundle(out, setup.env, tsa.certFile);
    assert.equal(pinned.code, 1, pinned.stdout + pinned.stderr);
    assert.deepEqual(codes(pinned.verdict), ['timestamps.json TIMESTAMP_MISSING']);
    const py = await python(out, setup.verifierKey, tsa.certFile);
    assert.equal(py.code, 1, py.stdout + py.stderr);
    assert.match(py.stdout, /timestamps\.json: TIMESTAMP_MISSING: missing/);
  });
});
