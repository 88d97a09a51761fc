import crypto from 'node:crypto';
import { sameSecret } from './constant-time.js';

/** What a link grants: one view of one id. */
export type LinkFormat = 'timeline' | 'csv' | 'json';

export interface LinkGrant {
  format: LinkFormat;
  /** An operationId or a correlation id. */
  id: string;
  /** Who the link was made for; every use is recorded under this name. */
  requester: string;
  /** Unix seconds after which the link is refused. */
  expires: number;
}

const DOMAIN = 'writ-link/v1';

/**
 * HMAC-SHA256 over every field of the grant as a JSON array: the encoding is unambiguous whatever
 * characters an id or a requester holds, and the domain tag keeps these MACs from being valid
 * for anything else signed with the same secret.
 */
export function signGrant(secret: string, grant: LinkGrant): string {
  return crypto
    .createHmac('sha256', secret)
    .update(JSON.stringify([DOMAIN, grant.format, grant.id, grant.requester, grant.expires]), 'utf8')
    .digest('base64url');
}

/**
 * Where each format is served. The id travels in the query, not the path: a browser resolves
 * "." and ".." path segments (even percent-encoded) before sending, and an id may be anything.
 */
export const PATHS: Record<LinkFormat, string> = {
  timeline: '/evidence/timeline',
  csv: '/evidence/records.csv',
  json: '/evidence/what-happened.json',
};

export function signedUrl(baseUrl: string, secret: string, grant: LinkGrant): string {
  const query = new URLSearchParams({
    id: grant.id,
    by: grant.requester,
    exp: String(grant.expires),
    sig: signGrant(secret, grant),
  });
  return `${baseUrl}${PATHS[grant.format]}?${query.toString()}`;
}

export interface SignedLinks {
  timeline: string;
  csv: string;
  json: string;
}

export function signedLinks(
  baseUrl: string,
  secret: string,
  id: string,
  requester: string,
  expires: number,
): SignedLinks {
  const url = (format: LinkFormat) => signedUrl(baseUrl, secret, { format, id, requester, expires });
  return { timeline: url('timeline'), csv: url('csv'), json: url('json') };
}

export type LinkCheck = { ok: true; grant: LinkGrant } | { ok: false; problem: string };

/**
 * Checks a link's query for the format its path names. The signature is checked before the
 * expiry, so a forged link learns nothing about what a valid one would say; the comparison is of
 * fixed-length digests in constant time.
 */
export function checkLink(secret: string, format: LinkFormat, query: URLSearchParams, nowMs: number): LinkCheck {
  const id = query.get('id');
  const requester = query.get('by');
  const exp = query.get('exp');
  const sig = query.get('sig');
  if (id === null || requester === null || exp === null || sig === null) {
    return {
      ok: false,
      problem:
        'this address is not a signed link (it lacks id, by, exp or sig): ask for a link with `writ link` or /what-happened in Slack',
    };
  }
  const expires = /^\d{1,15}$/.test(exp) ? Number(exp) : NaN;
  const grant: LinkGrant = { format, id, requester, expires };
  if (!Number.isSafeInteger(expires) || !sameSecret(signGrant(secret, grant), sig)) {
    return {
      ok: false,
      problem:
        "this link's signature does not match: the link was changed or cut short, or it was made with another secret. Ask for a new link",
    };
  }
  if (nowMs >= expires * 1000) {
    return { ok: false, problem: `this link expired at ${new Date(expires * 1000).toISOString()}: ask for a new one` };
  }
  return { ok: true, grant };
}
