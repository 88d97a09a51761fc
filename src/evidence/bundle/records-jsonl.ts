import type { BundleRecord } from './select.js';

/**
 * records.jsonl: one JSON object a line (seq, chain, canonical in base64, prevHash and hash in hex),
 * written into one buffer. Only the chain can need escaping, so it is stringified once a chain:
 * a JSON.stringify of every line, the lines joined into one string and that string encoded again
 * took about twice as long for a trace's ten thousand records (BENCHMARKS.md, P5).
 */
export function recordsJsonl(records: readonly BundleRecord[]): Buffer {
  const quotedChains = new Map<string, string>();
  const lines: Array<[head: string, canonical: string, tail: string]> = [];
  let size = 0;
  for (const record of records) {
    let chain = quotedChains.get(record.chain);
    if (chain === undefined) quotedChains.set(record.chain, (chain = JSON.stringify(record.chain)));
    const head = `{"seq":${record.seq},"chain":${chain},"canonical":"`;
    const canonical = record.canonical.toString('base64');
    const tail = `","prevHash":"${record.prevHash.toString('hex')}","hash":"${record.hash.toString('hex')}"}\n`;
    lines.push([head, canonical, tail]);
    size += Buffer.byteLength(head, 'utf8') + canonical.length + tail.length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const [head, canonical, tail] of lines) {
    at += out.write(head, at, 'utf8');
    at += out.write(canonical, at, 'latin1');
    at += out.write(tail, at, 'latin1');
  }
  return out;
}
