import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import { prepareRecord } from '../../src/ledger/record.js';
import { freshLedger } from '../support/db.js';
import { appendNotes, note } from '../support/records.js';
import { asRole, refusal } from '../support/roles.js';

// Migration 0010: appends may carry their own seq, prev_hash and hash (that is how the appender
// saves a lock and a head read per record). These play a holder of writ_writer who sends links of
// their own making, and show that each forgery is refused whole and leaves the chain as it was.

const INSERT =
  'INSERT INTO writ.records (canonical, seq, prev_hash, hash) SELECT * FROM unnest($1::bytea[], $2::bigint[], $3::bytea[], $4::bytea[])';
const sha256 = (...parts: Buffer[]) => parts.reduce((h, part) => h.update(part), createHash('sha256')).digest();

interface Link {
  canonical: Buffer;
  seq: number;
  prev: Buffer;
  hash: Buffer;
}

async function head(pool: pg.Pool, chain = 'main'): Promise<{ seq: number; hash: Buffer }> {
  const row = (
    await pool.query<{ seq: string; hash: Buffer }>(
      'SELECT seq, hash FROM writ.records WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1',
      [chain],
    )
  ).rows[0];
  return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: Buffer.alloc(32) };
}

/** Honest links for new records after `from`, which the forgeries below then bend. */
function linked(from: { seq: number; hash: Buffer }, first: number, count: number, chain = 'main'): Link[] {
  const links: Link[] = [];
  let prev = from.hash;
  for (let i = 0; i < count; i++) {
    const canonical = prepareRecord(note(first + i, { chain })).canonical;
    const hash = sha256(prev, canonical);
    links.push({ canonical, seq: from.seq + 1 + i, prev, hash });
    prev = hash;
  }
  return links;
}

function insertAsWriter(pool: pg.Pool, links: Link[]) {
  const columns = [
    links.map((l) => l.canonical),
    links.map((l) => l.seq),
    links.map((l) => l.prev),
    links.map((l) => l.hash),
  ];
  return asRole(pool, 'writ_writer', (c) => c.query(INSERT, columns));
}

async function ledgerOfFive(t: Parameters<typeof freshLedger>[0]) {
  const ledger = await freshLedger(t);
  await appendNotes(new GroupCommitAppender(ledger.pool), 5);
  return { ...ledger, tip: await head(ledger.pool) };
}

async function assertUnchanged(pool: pg.Pool, tip: { seq: number; hash: Buffer }) {
  assert.deepEqual(await head(pool), tip, 'nothing was written');
  const verdicts = await verifyStoredLedger(pool);
  assert.ok(
    verdicts.every((verdict) => verdict.ok),
    JSON.stringify(verdicts),
  );
}

describe('a writer who sends links of its own making', () => {
  test('an honest link is accepted, and the database keeps its own clock', async (t) => {
    const { pool, tip } = await ledgerOfFive(t);
    const [link] = linked(tip, 100, 1);
    const row = await asRole(pool, 'writ_writer', (c) =>
      c.query(
        `INSERT INTO writ.records (canonical, seq, prev_hash, hash, recorded_at) VALUES ($1, $2, $3, $4, '2000-01-01') RETURNING seq, recorded_at`,
        [link!.canonical, link!.seq, link!.prev, link!.hash],
      ),
    );
    assert.equal(Number(row.rows[0].seq), 6);
    assert.ok(row.rows[0].recorded_at.getFullYear() > 2000, 'recorded_at is the database clock');
    assert.ok((await verifyStoredLedger(pool)).every((verdict) => verdict.ok));
  });

  // Each forgery gets honest links for three new records and the stored hashes of records 1 to 5.
  const forgeries: Array<[string, (links: Link[], stored: Buffer[]) => Link[], string]> = [
    ['a hash that is not SHA-256 of its link', (l) => [{ ...l[0]!, hash: sha256(Buffer.from('forged')) }], 'WRT05'],
    ['a record after a gap, self-consistent', (l) => [{ ...l[0]!, seq: l[0]!.seq + 4 }], 'WRT05'],
    [
      'a record that links to an earlier record than the head',
      (l, stored) => [{ ...l[0]!, prev: stored[2]!, hash: sha256(stored[2]!, l[0]!.canonical) }],
      'WRT05',
    ],
    ['a fork: a second record at a taken position', (l) => [{ ...l[0]!, seq: 3 }], '23505'],
    [
      'a batch whose third record breaks the link inside the statement',
      (l) =>
        l.map((link, i) => (i === 2 ? { ...link, prev: l[0]!.hash, hash: sha256(l[0]!.hash, link.canonical) } : link)),
      'WRT05',
    ],
    [
      'a new chain that does not start at 32 zero bytes',
      () => linked({ seq: 0, hash: sha256(Buffer.from('x')) }, 300, 1, 'other'),
      'WRT05',
    ],
    ['a new chain that starts at 2', () => linked({ seq: 1, hash: Buffer.alloc(32) }, 400, 1, 'other'), 'WRT05'],
  ];
  for (const [name, forge, code] of forgeries)
    test(`${name} is refused, and nothing is written`, async (t) => {
      const { pool, tip } = await ledgerOfFive(t);
      const stored = (
        await pool.query<{ hash: Buffer }>("SELECT hash FROM writ.records WHERE chain_id = 'main' ORDER BY seq")
      ).rows;
      const error = await refusal(
        insertAsWriter(
          pool,
          forge(
            linked(tip, 200, 3),
            stored.map((row) => row.hash),
          ),
        ),
      );
      assert.equal(error.code, code, error.message);
      await assertUnchanged(pool, tip);
      assert.equal((await head(pool, 'other')).seq, 0);
    });

  test('link_records told the wrong chain links to the wrong head, and the insert is refused', async (t) => {
    const { pool, tip } = await ledgerOfFive(t);
    await new GroupCommitAppender(pool).append(note(50, { chain: 'other' }));
    const canonical = prepareRecord(note(60)).canonical;
    const error = await refusal(
      asRole(pool, 'writ_writer', (c) =>
        c.query(
          `INSERT INTO writ.records (canonical, seq, prev_hash, hash)
           SELECT l.canonical, l.seq, l.prev_hash, l.hash FROM writ.link_records($1, $2, $3) AS l`,
          [[canonical], ['other'], ['k-60']],
        ),
      ),
    );
    assert.ok(['WRT05', '23505'].includes(error.code ?? ''), error.message);
    await assertUnchanged(pool, tip);
  });

  test('a sha256 of its own, first on its search_path, does not get a forged hash past the check', async (t) => {
    const { pool, tip } = await ledgerOfFive(t);
    // A schema the writer may create in: an administrator's slip, and the only way to shadow a function.
    await pool.query('CREATE SCHEMA shadow AUTHORIZATION writ_writer');
    const [link] = linked(tip, 500, 1);
    const error = await refusal(
      asRole(pool, 'writ_writer', async (c) => {
        // Its sha256 answers the forged hash whatever it is given.
        const forged = Buffer.alloc(32, 7);
        await c.query(
          `CREATE FUNCTION shadow.sha256(bytea) RETURNS bytea LANGUAGE sql AS $$ SELECT '\\x${forged.toString('hex')}'::bytea $$`,
        );
        await c.query('SET search_path = shadow, pg_catalog');
        return c.query(INSERT, [[link!.canonical], [link!.seq], [link!.prev], [forged]]);
      }),
    );
    assert.equal(error.code, 'WRT05', error.message);
    await assertUnchanged(pool, tip);
  });
});
