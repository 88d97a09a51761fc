/**
 * A parser of PostgreSQL's binary COPY format (`COPY ... TO STDOUT (FORMAT binary)`): an 11-byte
 * signature, a flags word and a header extension, then tuples of length-prefixed fields, then a
 * trailer (a field count of -1). Fields come back as raw bytes (null for SQL NULL), sliced from
 * the chunk without copying; decoding them is the caller's business, because only the caller
 * knows the column types. Chunks may split a tuple anywhere.
 */
export type CopyField = Buffer | null;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Signature, flags (int32), header extension length (int32). */
const FIXED_HEADER = SIGNATURE.length + 8;

export class BinaryCopyParser {
  private pending: Buffer = Buffer.alloc(0);
  private headerRead = false;
  private ended = false;

  /** The complete tuples this chunk finishes; an incomplete tail waits for the next chunk. */
  push(chunk: Buffer): CopyField[][] {
    const data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let offset = this.headerRead ? 0 : this.readHeader(data);
    if (offset < 0) {
      this.pending = data;
      return [];
    }
    const tuples: CopyField[][] = [];
    while (!this.ended) {
      const tuple = readTuple(data, offset);
      if (!tuple) break;
      offset = tuple.end;
      if (tuple.fields) tuples.push(tuple.fields);
      else this.ended = true;
    }
    if (this.ended && offset < data.length) throw new Error('binary COPY: data after the trailer');
    this.pending = data.subarray(offset);
    return tuples;
  }

  /** Throws unless the stream ended with its trailer: a cut stream must not pass for a short one. */
  end(): void {
    if (!this.ended) throw new Error('binary COPY: the stream ended before its trailer');
  }

  private readHeader(data: Buffer): number {
    if (data.length < FIXED_HEADER) return -1;
    if (!data.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('binary COPY: bad signature');
    const flags = data.readUInt32BE(SIGNATURE.length);
    // Bit 16 says OIDs are included; bits 17-31 are critical and unknown to this parser.
    if (flags !== 0) throw new Error(`binary COPY: unsupported header flags ${flags.toString(16)}`);
    const extension = data.readUInt32BE(SIGNATURE.length + 4);
    if (data.length < FIXED_HEADER + extension) return -1;
    this.headerRead = true;
    return FIXED_HEADER + extension;
  }
}

/** One tuple at offset, or null when the data ends inside it; fields null for the trailer. */
function readTuple(data: Buffer, start: number): { fields: CopyField[] | null; end: number } | null {
  if (data.length < start + 2) return null;
  const count = data.readInt16BE(start);
  if (count === -1) return { fields: null, end: start + 2 };
  const fields: CopyField[] = new Array<CopyField>(count);
  let offset = start + 2;
  for (let i = 0; i < count; i++) {
    if (data.length < offset + 4) return null;
    const length = data.readInt32BE(offset);
    offset += 4;
    if (length === -1) {
      fields[i] = null;
      continue;
    }
    if (data.length < offset + length) return null;
    fields[i] = data.subarray(offset, offset + length);
    offset += length;
  }
  return { fields, end: offset };
}

/** Decoders for the column types the ledger's COPY queries send. */
export const decode = {
  int8: (field: CopyField): number | null => (field === null ? null : Number(field.readBigInt64BE(0))),
  bool: (field: CopyField): boolean | null => (field === null ? null : field[0] === 1),
  text: (field: CopyField): string | null => (field === null ? null : field.toString('utf8')),
  /** A jsonb value sent as text (`::text` in the query), parsed. */
  json: (field: CopyField): unknown => (field === null ? null : JSON.parse(field.toString('utf8'))),
};
