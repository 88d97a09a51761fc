/**
 * RFC 4648 §4 base64 in its one canonical spelling, or null. Node's decoder also takes the URL
 * alphabet, missing padding, whitespace and stray bits, so two different signed texts could
 * decode to the same root or signature; evidence must have exactly one spelling.
 *
 * Node's decoder skips every character outside its alphabets ('=' inside the text included), so
 * a text with any such character decodes to fewer bytes than its length promises. What is left
 * is the URL alphabet, found by search, and stray bits, which only the last quantum can hold: it
 * must be what its own bytes encode to. A pattern match over every character cost more than the
 * decoding, and a round trip of the whole text made a string as long as the text for every record
 * (BENCHMARKS.md, P5).
 */
export function decodeBase64Strict(text: string): Buffer | null {
  const length = text.length;
  if (length % 4 !== 0) return null;
  const padding =
    length === 0 || text.charCodeAt(length - 1) !== EQUALS ? 0 : text.charCodeAt(length - 2) === EQUALS ? 2 : 1;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== (length / 4) * 3 - padding) return null;
  if (text.includes('-') || text.includes('_')) return null;
  if (length && bytes.toString('base64', bytes.length - (3 - padding)) !== text.slice(length - 4)) return null;
  return bytes;
}

const EQUALS = 0x3d;
