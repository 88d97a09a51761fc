import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type pg from 'pg';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { canonicalText } from '../../src/verify/canonical.js';
import { prepareRecord } from '../../src/ledger/record.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runCommand, runWrit } from '../support/cli.js';
import { keygen } from '../support/signing-key.js';
import { freshLedger } from '../support/db.js';
import { appendNotes } from '../support/records.js';
import { asRole, refusal } from '../support/roles.js';

/** A closing record's canonical text, spelled with `outcome` twice: failed first, succeeded last. */
function twoWayClosing(operationId: string): Buffer {
  const text = canonicalText(
    prepareRecord({
      type: 'operation.closed',
      operationId,
      state: 'failed',
      actor: { id: 'writ', kind: 'service' },
      payload: { outcome: 'failed' },
    }).record,
  );
  return Buffer.from(text.replace('"outcome":"failed"', '"outcome":"failed","outcome":"succeeded"'), 'utf8');
}

const insertAsWriter = (pool: pg.Pool, bytes: Buffer) =>
  asRole(pool, 'writ_writer', (c) =>
    c.query<{ seq: string }>('INSERT INTO writ.records (canonical) VALUES ($1) RETURNING seq', [bytes]),
  );

const GENESIS = '\\x' + '00'.repeat(32);

/**
 * With the admission checks off (as their owner can switch them), the writer links the row itself
 * the way the ledger would: the bytes reach the ledger unchecked, on a chain that still verifies.
 */
async function insertWithTheCheckOff(pool: pg.Pool, bytes: Buffer) {
  await pool.query('ALTER TABLE writ.records DISABLE TRIGGER records_admit, DISABLE TRIGGER records_check_links');
  try {
    return await asRole(pool, 'writ_writer', (c) =>
      c.query<{ seq: string }>(
        `INSERT INTO writ.records (seq, canonical, record, prev_hash, hash, recorded_at)
         SELECT coalesce(head.seq, 0) + 1, $1, convert_from($1, 'UTF8')::jsonb, coalesce(head.hash, $2::bytea),
                sha256(coalesce(head.hash, $2::bytea) || $1), clock_timestamp()
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (SELECT seq, hash FROM writ.records WHERE chain_id = 'main' ORDER BY seq DESC LIMIT 1) AS head ON true
         RETURNING seq`,
        [bytes, GENESIS],
      ),
    );
  } finally {
    await pool.query('ALTER TABLE writ.records ENABLE TRIGGER records_admit, ENABLE TRIGGER records_check_links');
  }
}

describe('when the writer role inserts bytes that read two ways', () => {
  test('a key given twice is refused at insert, and nothing is appended', async (t) => {
    const { pool } = await freshLedger(t);
    await appendNotes(new GroupCommitAppender(pool), 2);
    const error = await refusal(insertAsWriter(pool, twoWayClosing('op-dup')));
    assert.equal(error.code, 'WRT04', error.message);
    assert.match(error.message, /key twice/);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM writ.records')).rows[0].n, 2);
    assert.equal(
      (await pool.query('SELECT count(*)::int AS n FROM writ.operations WHERE operation_id = $1', ['op-dup'])).rows[0]
        .n,
      0,
    );
  });

  test('once in the ledger anyway (written before the check, or with it switched off), writ verify exits 1 naming the record', async (t) => {
    const { pool, url } = await freshLedger(t);
    await appendNotes(new GroupCommitAppender(pool), 3);
    // The owner can switch the check off; the verifier must not depend on it having been on.
    const inserted = await insertWithTheCheckOff(pool, twoWayClosing('op-dup'));
    assert.equal(Number(inserted.rows[0]!.seq), 4);
    assert.equal(
      (await pool.query("SELECT outcome FROM writ.operations WHERE operation_id = 'op-dup'")).rows[0].outcome,
      'succeeded',
      'the database reads the last value',
    );

    const result = await runWrit(['verify'], { env: { DATABASE_URL: url } });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /chain main: DAMAGED at record 4: not_canonical: .*duplicate key "outcome" \(at payload\)/,
    );
    assert.match(result.stderr, /chain main at record 4 \(not_canonical\)/);
  });

  test('exported in a bundle signed by the real key, the record is named not_canonical by verify-bundle and by the independent Python verifier', async (t) => {
    const { pool, url } = await freshLedger(t);
    await insertWithTheCheckOff(pool, twoWayClosing('op-dup'));
    const dir = mkdtempSync(join(tmpdir(), 'writ-dup-'));
    const signer = await keygen(dir);
    const exported = await runWrit(['export', 'op-dup', '--out', join(dir, 'bundle')], {
      env: { DATABASE_URL: url, ...signer.env, WRIT_ANCHOR_DIR: join(dir, 'anchors') },
    });
    assert.equal(exported.code, 0, exported.stdout + exported.stderr);

    const checked = await runWrit(['verify-bundle', join(dir, 'bundle'), '--verifier-key', signer.verifierKey]);
    assert.equal(checked.code, 1, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /records\.jsonl record 1: not_canonical: .*duplicate key "outcome" \(at payload\)/);
    const python = await runCommand('python3', [
      join(REPO_ROOT, 'test', 'evidence', 'independent_verifier.py'),
      join(dir, 'bundle'),
      '--verifier-key',
      signer.verifierKey,
    ]);
    assert.equal(python.code, 1, python.stdout + python.stderr);
    assert.match(python.stdout, /records\.jsonl seq 1: not_canonical: duplicate key "outcome"/);
  });

  test("bytes that read one way but are not canonical (whitespace, key order, a number's spelling) are named by writ verify", async (t) => {
    for (const respell of [
      (text: string) => text.replace('"type":', ' "type" : '),
      (text: string) => text.replace(/^\{"actor":(\{[^}]*\}),"chain":"main",/, '{"chain":"main","actor":$1,'),
      (text: string) => text.replace('"i":1', '"i":1.0'),
    ]) {
      const { pool, url } = await freshLedger(t);
      const text = canonicalText(
        prepareRecord({ type: 'manual.note', actor: { id: 'alice', kind: 'user' }, payload: { i: 1, message: 'note' } })
          .record,
      );
      const bytes = Buffer.from(respell(text), 'utf8');
      assert.notEqual(bytes.toString(), text, 'the respelling changed the bytes');
      await insertAsWriter(pool, bytes);
      const result = await runWrit(['verify'], { env: { DATABASE_URL: url } });
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(
        result.stdout,
        /DAMAGED at record 1: not_canonical: the hashed bytes are not RFC 8785 canonical JSON: /,
      );
    }
  });
});

// The insert check is a counting argument with a fast path (docs in migrations/0005); this holds
// it to its specification on the real trigger: refused exactly when some object gives a key twice.
describe('the insert check on hashed bytes', () => {
  const tricky = fc.string({
    unit: fc.constantFrom('"', ':', '\\', ' ', '\n', '{', '}', ',', 'a', 'b', '\u00e9', '\u2028', '/', '\u0001'),
  });
  const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: 3 },
      tricky,
      fc.integer(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(fc.oneof(tricky, fc.constantFrom('a', 'b')), tie('value'), { maxKeys: 3 }),
    ),
  })).value;

  test('refuses a text exactly when it gives a key twice, however its strings and spaces are spelled', async (t) => {
    const { pool } = await freshLedger(t);
    let refused = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        value,
        fc.boolean(),
        fc.constantFrom('canonical', 'spaced', 'escaped'),
        fc.constantFrom(' ', '\n', '\t', '\r'),
        fc.nat(),
        async (inner, duplicate, spelling, space, seed) => {
          runs++;
          let body = canonicalText({ chain: 'main', inner, n: seed, v: 1 });
          // Whitespace everywhere outside strings, also between each key and its colon.
          if (spelling === 'spaced')
            body = JSON.stringify(JSON.parse(body), null, 1).replace(/"(?:[^"\\]|\\.)*"(:?)/g, (m, colon) =>
              colon ? `${m.slice(0, -1)}${space}:` : m,
            );
          // Inside strings only: an escaped quote, a colon and some letters spelled as \u escapes.
          if (spelling === 'escaped') {
            body = body.replace(/"(?:[^"\\]|\\.)*"/g, (string) =>
              string.replace(/\\.|[:a\u00e9]/g, (m) =>
                m === '\\"' ? '\\u0022' : m.length === 2 ? m : `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`,
              ),
            );
          }
          // The duplicate goes into an object with a key that looks like a member from inside a string.
          if (duplicate) body = body.replace(/"n"\s*:/, '"n":0,"x\\":":1,"n":');
          else body = body.replace(/"n"\s*:/, '"x\\":":1,"n":');
          const bytes = Buffer.from(body, 'utf8');
          const outcome = await asRole(pool, 'writ_writer', async (c) => {
            await c.query('BEGIN');
            try {
              await c.query('INSERT INTO writ.records (canonical) VALUES ($1)', [bytes]);
              return 'appended';
            } catch (error) {
              return (error as { code?: string }).code ?? 'error';
            } finally {
              await c.query('ROLLBACK');
            }
          });
          if (outcome === 'WRT04') refused++;
          assert.equal(outcome, duplicate ? 'WRT04' : 'appended', `${JSON.stringify(body)}`);
        },
      ),
      { numRuns: 300 },
    );
    assert.ok(refused > runs / 4 && refused < (3 * runs) / 4, `${refused} of ${runs} refused`);
  });
});
