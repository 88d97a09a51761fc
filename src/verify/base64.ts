/**
 * RFC 4648 §4 base64 in its one canonical spelling, or null. Node's decoder also takes the URL
 * alphabet, missing padding, whitespace and stray bits, so two different signed texts could
 * decode to the same root or signature; evidence must have exactly one spelling. Encoding is a
 * function, so the text is that spelling exactly when it is what its own bytes encode to: one
 * native round trip, where a pattern match over every character cost more than the decoding
 * (a quarter of a large bundle's verification).
 */
export function decodeBase64Strict(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}
