import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { BinaryCopyParser } from './copy-binary.js';
import type { CopyField } from './copy-binary.js';

/**
 * The rows of `query` as one binary COPY, a chunk's worth at a time. A plain query sends bytea as
 * hex text, twice the bytes on the wire and a decoding pass in Node; COPY sends the bytes as they
 * are. COPY takes no parameters: whatever `query` names must already be a quoted literal.
 */
export async function* copyOutBinary(client: pg.ClientBase, query: string): AsyncGenerator<CopyField[][]> {
  const stream = client.query(copyStreams.to(`COPY (${query}) TO STDOUT (FORMAT binary)`));
  const parser = new BinaryCopyParser();
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const tuples = parser.push(chunk);
    if (tuples.length) yield tuples;
  }
  parser.end();
}
