import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { BinaryCopyParser, decode } from '../../src/ledger/copy-binary.js';
import type { CopyField } from '../../src/ledger/copy-binary.js';
import { freshLedger } from '../support/db.js';

// Every column type the ledger's COPY queries send, with NULLs, empty values and non-ASCII text.
const VALUES = `
  SELECT * FROM (VALUES
    (1::bigint, '\\x00ff10'::bytea, true, 'plain'::text, '{"a":[1,"é"]}'::jsonb::text),
    (9007199254740991::bigint, ''::bytea, false, 'naïve ✓'::text, 'null'::jsonb::text),
    (NULL::bigint, NULL::bytea, NULL::boolean, NULL::text, NULL::text),
    (-5::bigint, decode(repeat('ab', 20000), 'hex'), true, ''::text, '"x"'::jsonb::text)
  ) AS v(n, b, f, t, j)`;

async function copyOut(pool: pg.Pool, sql: string): Promise<Buffer> {
  const client = await pool.connect();
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of client.query(copyStreams.to(`COPY (${sql}) TO STDOUT (FORMAT binary)`)))
      chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    client.release();
  }
}

function decodeRow(fields: CopyField[]): unknown[] {
  return [
    decode.int8(fields[0]!),
    fields[1] === null ? null : Buffer.from(fields[1]!),
    decode.bool(fields[2]!),
    decode.text(fields[3]!),
    decode.json(fields[4]!),
  ];
}

function parseInChunks(bytes: Buffer, size: number): unknown[][] {
  const parser = new BinaryCopyParser();
  const rows: unknown[][] = [];
  for (let offset = 0; offset < bytes.length; offset += size)
    rows.push(...parser.push(bytes.subarray(offset, offset + size)).map(decodeRow));
  parser.end();
  return rows;
}

describe('the binary COPY parser reads what PostgreSQL sends', () => {
  test('every column type comes back as a plain query returns it, however the stream is cut', async (t) => {
    const { pool } = await freshLedger(t);
    const expected = (await pool.query<Record<string, unknown>>(VALUES)).rows.map((row) => [
      row.n,
      row.b,
      row.f,
      row.t,
      row.j === null ? null : JSON.parse(row.j as string),
    ]);
    const bytes = await copyOut(pool, VALUES);
    for (const size of [bytes.length, 1, 3, 7, 19, 4096])
      assert.deepEqual(parseInChunks(bytes, size), expected, `${size}`);
  });

  test('a stream cut before its trailer is an error, not a shorter table', async (t) => {
    const { pool } = await freshLedger(t);
    const bytes = await copyOut(pool, VALUES);
    const parser = new BinaryCopyParser();
    const rows = parser.push(bytes.subarray(0, bytes.length - 2));
    assert.equal(rows.length, 4);
    assert.throws(() => parser.end(), /before its trailer/);
    assert.throws(() => new BinaryCopyParser().push(Buffer.from('PGCOPY\nXXXXXXXXXXXXXX')), /bad signature/);
  });
});
