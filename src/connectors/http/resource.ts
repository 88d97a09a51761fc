import type { Json } from '../../model/json.js';
import { ConnectorInputError } from '../types.js';
import type { HttpRequest, HttpResponse, HttpSend } from './client.js';
import { HttpUnavailableError } from './client.js';
import { resolveTarget } from './target.js';

/** A resource as the API holds it; `state` null: it does not exist. */
export interface Representation {
  state: Json;
  etag: string | null;
}

export interface WriteResult {
  status: number;
  etag: string | null;
  /** What the API returned for the write; undefined when it returned no JSON. */
  returned: Json | undefined;
  attempts: number;
}

export interface Write {
  method: 'PUT' | 'PATCH' | 'DELETE';
  body?: Json;
  contentType?: string;
  precondition: { 'if-match': string } | { 'if-none-match': '*' };
  idempotencyKey: string;
  /** What a 412 means for this write, in plain words. */
  preconditionFailed: string;
}

/** Error messages are recorded: the configured header values (tokens) never appear in them. */
type Scrub = (text: string) => string;

const excerpt = (response: HttpResponse, scrub: Scrub) => {
  const text = scrub(response.text).trim().replace(/\s+/g, ' ');
  return text ? `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}` : '';
};

/** Where a redirect points, without a query or credentials (a signed URL carries its token there). */
const locationOf = (location: string | null, base: URL): string => {
  if (location === null) return 'an unnamed location';
  try {
    const url = new URL(location, base);
    return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return 'a location that is not a URL';
  }
};

/** A non-success answer as the error the workflow needs: a refusal, or something to retry later. */
function failure(method: string, target: string, response: HttpResponse, base: URL, scrub: Scrub): Error {
  const { status } = response;
  const what = `${method} ${target} got ${status}${response.statusText ? ` ${response.statusText}` : ''}`;
  if (status >= 300 && status < 400) {
    return new ConnectorInputError(
      `${what}, a redirect to ${locationOf(response.location, base)}; point baseUrl at where the resources really are`,
    );
  }
  // Time-outs and rate limits on the server's side pass; a retry later, with the same key, is safe.
  if (status === 408 || status === 429) return new HttpUnavailableError(`${what}${excerpt(response, scrub)}`);
  if (status === 404 || status === 410)
    return new ConnectorInputError(`${target} does not exist (${method} got ${status})`);
  if (status >= 400 && status < 500)
    return new ConnectorInputError(`${what}, a refusal a retry cannot fix${excerpt(response, scrub)}`);
  const tries = response.attempts > 1 ? ` after ${response.attempts} attempts` : '';
  return new HttpUnavailableError(`${what}${tries}${excerpt(response, scrub)}`);
}

/** REST semantics over the client: what a status means for a read or a conditional write. */
export function resourceApi(base: URL, send: HttpSend, secrets: readonly string[] = []) {
  const hidden = secrets.filter((secret) => secret.length >= 6).sort((a, b) => b.length - a.length);
  const scrub: Scrub = (text) => hidden.reduce((output, secret) => output.split(secret).join('[redacted]'), text);
  return {
    async read(target: string): Promise<Representation> {
      const response = await send({ method: 'GET', url: resolveTarget(base, target) });
      if (response.status === 404 || response.status === 410) return { state: null, etag: null };
      if (response.status !== 200) throw failure('GET', target, response, base, scrub);
      if (response.json === undefined) throw new ConnectorInputError(`GET ${target} returned a body that is not JSON`);
      return { state: response.json, etag: response.etag };
    },

    async write(target: string, write: Write): Promise<WriteResult> {
      const request: HttpRequest = {
        method: write.method,
        url: resolveTarget(base, target),
        headers: write.precondition,
        idempotencyKey: write.idempotencyKey,
        ...(write.body === undefined ? {} : { body: write.body, contentType: write.contentType ?? 'application/json' }),
      };
      const response = await send(request);
      if (response.status >= 200 && response.status < 300) {
        return { status: response.status, etag: response.etag, returned: response.json, attempts: response.attempts };
      }
      if (response.status === 412) throw new ConnectorInputError(write.preconditionFailed);
      throw failure(write.method, target, response, base, scrub);
    },
  };
}

export type ResourceApi = ReturnType<typeof resourceApi>;
