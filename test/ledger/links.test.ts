import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { prepareRecord } from '../../src/ledger/record.js';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import { freshLedger } from '../support/db.js';
import { appendNotes, note } from '../support/records.js';
import { asRole, refusal } from '../support/roles.js';

const INSERT_LINKED = `INSERT INTO writ.records (seq, canonical, prev_hash, hash)
  SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[])`;

interface Row {
  seq: number;
  canonical: Buffer;
  prev: Buffer;
  hash: Buffer;
}

function sha256(...parts: Buffer[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

async function head(pool: pg.Pool): Promise<{ seq: number; hash: Buffer }> {
  const { rows } = await pool.query<{ seq: string; hash: Buffer }>(
    `SELECT seq, hash FROM writ.records WHERE chain_id = 'main' ORDER BY seq DESC LIMIT 1`,
  );
  return { seq: Number(rows[0]!.seq), hash: rows[0]!.hash };
}

/** Honest links for notes `from`.. on to the chain's head, for a test to spoil one of them. */
async function honestRows(pool: pg.Pool, from: number, count: number): Promise<Row[]> {
  let { seq, hash } = await head(pool);
  return Array.from({ length: count }, (_, i) => {
    const canonical = prepareRecord(note(from + i)).canonical;
    const row = { seq: seq + 1, canonical, prev: hash, hash: sha256(hash, canonical) };
    ({ seq, hash } = { seq: row.seq, hash: row.hash });
    return row;
  });
}

function insertAsWriter(pool: pg.Pool, rows: Row[]) {
  return asRole(pool, 'writ_writer', (c) =>
    c.query(INSERT_LINKED, [
      rows.map((r) => r.seq),
      rows.map((r) => r.canonical),
      rows.map((r) => r.prev),
      rows.map((r) => r.hash),
    ]),
  );
}

async function count(pool: pg.Pool): Promise<number> {
  return (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM writ.records')).rows[0]!.n;
}

async function ledgerWithThree(t: Parameters<typeof freshLedger>[0]) {
  const ledger = await freshLedger(t);
  await appendNotes(new GroupCommitAppender(ledger.pool), 3);
  return ledger;
}

describe('when the writer role sends records with links of its own', () => {
  test('honest links are accepted, stored as sent, and the chain verifies', async (t) => {
    const { pool } = await ledgerWithThree(t);
    const rows = await honestRows(pool, 4, 3);
    await insertAsWriter(pool, rows);
    const stored = await pool.query<{ seq: string; hash: Buffer }>(
      'SELECT seq, hash FROM writ.records WHERE seq > 3 ORDER BY seq',
    );
    assert.deepEqual(
      stored.rows.map((r) => [Number(r.seq), r.hash.toString('hex')]),
      rows.map((r) => [r.seq, r.hash.toString('hex')]),
    );
    const [verdict] = await verifyStoredLedger(pool, { deep: true });
    assert.equal(verdict?.ok, true);
    assert.equal(verdict?.records, 6);
  });

  const forgeries: Array<[string, (rows: Row[]) => Row[]]> = [
    ['a seq past the head, hashed consistently', (rows) => rows.map((r) => ({ ...r, seq: r.seq + 10 }))],
    [
      'a made-up previous hash with a hash that matches it',
      ([first, ...rest]) => {
        const prev = Buffer.alloc(32, 7);
        return [{ ...first!, prev, hash: sha256(prev, first!.canonical) }, ...rest];
      },
    ],
    [
      'a hash that is not SHA-256 of the previous hash and the bytes',
      ([first, ...rest]) => [{ ...first!, hash: Buffer.alloc(32, 1) }, ...rest],
    ],
    [
      "the last row's hash made up",
      (rows) => [...rows.slice(0, -1), { ...rows[rows.length - 1]!, hash: Buffer.alloc(32, 1) }],
    ],
    ['a skipped sequence number inside the batch', ([first, , third]) => [first!, { ...third!, seq: third!.seq + 1 }]],
    [
      'a second row that does not link on to the first',
      ([first, second, third]) => [
        first!,
        { ...second!, prev: first!.prev, hash: sha256(first!.prev, second!.canonical) },
        third!,
      ],
    ],
    [
      'rows sent in another order than they link',
      ([first, second, third]) => [third!, first!, second!].map((r, i) => ({ ...r, seq: first!.seq + i })),
    ],
  ];
  for (const [forgery, spoil] of forgeries)
    test(`${forgery} is refused with WRT08 and nothing is written`, async (t) => {
      const { pool } = await ledgerWithThree(t);
      const error = await refusal(insertAsWriter(pool, spoil(await honestRows(pool, 4, 3))));
      assert.equal(error.code, 'WRT08', error.message);
      assert.equal(await count(pool), 3);
      assert.equal((await verifyStoredLedger(pool))[0]?.ok, true);
    });

  test('a record linked on to an earlier record (a fork of history) is refused and nothing is written', async (t) => {
    const { pool } = await ledgerWithThree(t);
    const second = (await pool.query<{ hash: Buffer }>('SELECT hash FROM writ.records WHERE seq = 2')).rows[0]!.hash;
    const canonical = prepareRecord(note(9)).canonical;
    const error = await refusal(
      insertAsWriter(pool, [{ seq: 3, canonical, prev: second, hash: sha256(second, canonical) }]),
    );
    assert.equal(error.code, '23505', error.message);
    assert.equal(await count(pool), 3);
  });

  test('two writers linking on to the same head: one is written, the other refused, and the chain verifies', async (t) => {
    const { pool } = await ledgerWithThree(t);
    const [mine] = await honestRows(pool, 4, 1);
    const [theirs] = await honestRows(pool, 5, 1);
    // The second waits on the first's seq, and is refused once the first commits.
    assert.equal((await refusedWhileAnotherWrites(pool, mine!, theirs!, 'COMMIT')).code, '23505');
    assert.equal(await count(pool), 4);
    assert.equal((await verifyStoredLedger(pool, { deep: true }))[0]?.ok, true);
  });

  test('a writer whose predecessor was rolled back is refused rather than left pointing at nothing', async (t) => {
    const { pool } = await ledgerWithThree(t);
    const [mine, next] = await honestRows(pool, 4, 2);
    assert.equal((await refusedWhileAnotherWrites(pool, mine!, next!, 'ROLLBACK')).code, 'WRT08');
    assert.equal(await count(pool), 3);
  });
});

/** `theirs` sent as the writer while another transaction holds `mine` uncommitted, which then ends with `end`. */
async function refusedWhileAnotherWrites(pool: pg.Pool, mine: Row, theirs: Row, end: 'COMMIT' | 'ROLLBACK') {
  const first = await pool.connect();
  try {
    await first.query('BEGIN');
    await first.query(INSERT_LINKED, [[mine.seq], [mine.canonical], [mine.prev], [mine.hash]]);
    const second = refusal(insertAsWriter(pool, [theirs]));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await first.query(end);
    return await second;
  } finally {
    first.release();
  }
}

describe('when several appenders share one chain', () => {
  test('each links on to what it last saw; when another moved the head, its records are linked by the ledger instead, each written once', async (t) => {
    const { pool } = await freshLedger(t);
    const appenders = [new GroupCommitAppender(pool), new GroupCommitAppender(pool), new GroupCommitAppender(pool)];
    const perAppender = 300;
    await Promise.all(
      appenders.map((appender, a) =>
        Promise.all(
          Array.from({ length: 16 }, async (_, caller) => {
            for (let i = caller; i < perAppender; i += 16) await appender.append(note(a * 1000 + i));
          }),
        ),
      ),
    );
    assert.equal(await count(pool), appenders.length * perAppender);
    const seqs = await pool.query<{ first: string; last: string }>(
      'SELECT min(seq) AS first, max(seq) AS last FROM writ.records',
    );
    assert.equal(Number(seqs.rows[0]!.first), 1);
    assert.equal(Number(seqs.rows[0]!.last), appenders.length * perAppender);
    const [verdict] = await verifyStoredLedger(pool, { deep: true });
    assert.equal(verdict?.ok, true);
  });
});

describe('when one appender keeps many batches of a chain in flight', () => {
  test('with four batches in flight, every record is written once and no batch fails', async (t) => {
    const { pool } = await freshLedger(t);
    const failed: string[] = [];
    const appender = new GroupCommitAppender(pool, {
      maxInFlight: 4,
      onBatch: (report) => {
        if (!report.ok) failed.push(report.error?.message ?? 'failed');
      },
    });
    const total = 2000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        for (let i = next++; i < total; i = next++) await appender.append(note(i));
      }),
    );
    assert.deepEqual(failed, []);
    assert.equal(await count(pool), total);
    const [verdict] = await verifyStoredLedger(pool, { deep: true });
    assert.equal(verdict?.ok, true);
  });
});
