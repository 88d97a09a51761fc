import { ConnectorInputError } from '../types.js';

/**
 * The base URL every target hangs under. It ends in `/` so that relative resolution appends the
 * target instead of replacing the base's last segment (`new URL('42', 'http://h/accounts')` drops
 * `accounts`).
 */
export function normalizeBaseUrl(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`http connector: baseUrl ${JSON.stringify(baseUrl)} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`http connector: baseUrl must be http or https, not ${url.protocol}`);
  // Identities, and so the baseUrl, are written to the ledger: credentials belong in headers.
  if (url.username || url.password)
    throw new TypeError(
      'http connector: put credentials in headers, not in baseUrl (targets and their URLs are recorded in the ledger)',
    );
  if (url.search || url.hash) throw new TypeError('http connector: baseUrl cannot have a query or a fragment');
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

// Percent-encoded dots and slashes are decoded by some servers and proxies, so they count as the
// characters they stand for.
const DOT_SEGMENT = /(^|[/\\])(\.|%2e){1,2}([/\\?]|$)/i;

/** Why a target is refused, or null. A target may only name a resource under the base URL. */
function targetProblem(target: string): string | null {
  if (target.length === 0) return 'is empty';
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return 'is an absolute URL; give a path relative to the base URL';
  if (target.startsWith('/')) return 'starts with "/", which would leave the base URL; give a path relative to it';
  if (target.includes('\\') || /%5c|%2f/i.test(target)) return 'contains a backslash or an encoded slash';
  if (DOT_SEGMENT.test(target)) return 'contains a "." or ".." segment, which could leave the base URL';
  // A query is no part of a resource's name here, and may carry a token: identities are recorded.
  if (target.includes('?'))
    return 'contains a query ("?"); name the resource by its path alone (the target is recorded in the ledger, where a token in a query would stay)';
  if (/[\s#]/.test(target) || /[\u0000-\u001f\u007f]/.test(target))
    return 'contains whitespace, a control character or "#"';
  return null;
}

/**
 * One spelling per resource (RFC 3986 section 6.2.2): percent-encoded unreserved characters are
 * decoded, other percent-encodings upper-cased, runs of slashes collapsed. Policy matches this
 * form, and it is also the URL requested, so the resource written is the one policy saw.
 */
function canonicalPath(pathname: string): string {
  return pathname
    .replace(/%([0-9a-fA-F]{2})/g, (escape, hex: string) => {
      const char = String.fromCharCode(parseInt(hex, 16));
      return /[A-Za-z0-9\-._~]/.test(char) ? char : escape.toUpperCase();
    })
    .replace(/\/{2,}/g, '/');
}

/** The target in its canonical spelling, relative to the base URL (what policy globs match). */
export function canonicalTarget(base: URL, target: string): string {
  const url = resolveTarget(base, target);
  return `${url.pathname.slice(base.pathname.length)}${url.search}`;
}

export function resolveTarget(base: URL, target: string): URL {
  const problem = targetProblem(target);
  if (problem) throw new ConnectorInputError(`target ${JSON.stringify(target)} ${problem}`);
  const url = new URL(target, base);
  url.pathname = canonicalPath(url.pathname);
  // Belt and braces: whatever the checks above missed, the URL must still be under the base.
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) {
    throw new ConnectorInputError(`target ${JSON.stringify(target)} resolves outside ${base.href}`);
  }
  return url;
}
