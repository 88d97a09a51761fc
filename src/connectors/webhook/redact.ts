import { createHash } from 'node:crypto';
import type { Json } from '../../model/json.js';

/**
 * An incoming-webhook URL is a credential: whoever has it can post. What may be recorded of it
 * is its scheme and host and a short hash of the whole, `https://hooks.example.com#sha256:<16 hex>`:
 * enough to tell two endpoints apart and to check a URL one holds, nothing to post to.
 */
export function endpointLabel(url: URL): string {
  return `${url.protocol}//${url.host}#sha256:${createHash('sha256').update(url.href).digest('hex').slice(0, 16)}`;
}

const decoded = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

// Shorter path segments and query values are words ("hooks", "v1"), not tokens.
const MIN_SECRET_LENGTH = 6;

/**
 * Removes the URL, and each part of it that may be a token (path segments, query values,
 * credentials) and `others` (the signing secret), from text that came near it: error messages,
 * a receiver's answer.
 */
export function scrubber(
  url: URL,
  others: readonly string[] = [],
): { text(text: string): string; json(value: Json): Json } {
  const label = endpointLabel(url);
  const pieces = new Set<string>([url.href, `${url.origin}${url.pathname}`, `${url.pathname}${url.search}`]);
  for (const segment of url.pathname.split('/')) pieces.add(segment);
  for (const [name, value] of url.searchParams) pieces.add(value).add(`${name}=${value}`);
  if (url.search.length > 1) pieces.add(url.search.slice(1));
  pieces.add(url.username).add(url.password);
  for (const other of others) pieces.add(other);
  const secrets = [...pieces]
    .flatMap((piece) => [piece, decoded(piece), encodeURIComponent(decoded(piece))])
    .filter((piece) => piece.length >= MIN_SECRET_LENGTH && piece !== url.origin)
    .sort((a, b) => b.length - a.length);
  // One pass, longest first, so nothing is matched inside what was put in place of a secret.
  const pattern = secrets.length
    ? new RegExp(secrets.map((secret) => secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g')
    : null;
  const text = (input: string) =>
    pattern ? input.replace(pattern, (secret) => (secret === url.href ? label : '[redacted]')) : input;
  const json = (value: Json): Json => {
    if (typeof value === 'string') return text(value);
    if (Array.isArray(value)) return value.map(json);
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([key, member]) => [text(key), json(member)]));
    return value;
  };
  return { text, json };
}
