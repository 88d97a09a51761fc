const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * RFC 4648 §4 base64 in its one canonical spelling, or null. Node's decoder also takes the URL
 * alphabet, missing padding, whitespace and stray bits, so two different signed texts could
 * decode to the same root or signature; evidence must have exactly one spelling.
 */
export function decodeBase64Strict(text: string): Buffer | null {
  if (!STANDARD_BASE64.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}
