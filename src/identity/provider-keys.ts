import type { JWK } from 'jose';
import { calculateJwkThumbprint } from 'jose';
import type { ProviderKeyLookup } from '../verify/provider-token.js';

/** Members of a JWK that are never public: recording a key records none of them. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

export function publicJwk(jwk: JWK): JWK {
  return Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_MEMBERS.includes(name))) as JWK;
}

export interface ProviderKeysOptions {
  /** Where an issuer's keys are when the directory says; otherwise discovered. */
  jwksUri?: (issuer: string) => Promise<string | undefined>;
  /** Told of each key the first time it verifies a token, before anything rests on it. */
  firstUse?: (issuer: string, jwk: JWK, thumbprint: string) => Promise<void>;
  /**
   * Told of each key every time it verifies a token, before anything rests on it: the governance
   * recorder puts it on the chain of each operation that relies on it (and remembers that it did).
   */
  everyUse?: (issuer: string, jwk: JWK, thumbprint: string) => Promise<void>;
  fetch?: typeof fetch;
  /** How long a key set is trusted before it is read again. */
  maxAgeMs?: number;
}

interface KeySet {
  keys: JWK[];
  readAt: number;
}

const REFRESH_AT_MOST_EVERY_MS = 30_000;

/**
 * The identity providers' published keys, read from their JWKS (found through OpenID Connect
 * discovery), cached, and read again when a token names a key not seen yet (providers rotate).
 */
export class ProviderKeys {
  private readonly sets = new Map<string, KeySet>();
  private readonly seen = new Set<string>();
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ProviderKeysOptions = {}) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  readonly lookup: ProviderKeyLookup = async (issuer, header) => {
    let set = await this.keySet(issuer, false);
    let jwk = pick(set.keys, header.kid);
    if (!jwk && Date.now() - set.readAt > REFRESH_AT_MOST_EVERY_MS) {
      set = await this.keySet(issuer, true);
      jwk = pick(set.keys, header.kid);
    }
    if (!jwk) return null;
    const thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
    const seenKey = `${issuer}\n${thumbprint}`;
    if (!this.seen.has(seenKey)) {
      await this.options.firstUse?.(issuer, publicJwk(jwk), thumbprint);
      this.seen.add(seenKey);
    }
    await this.options.everyUse?.(issuer, publicJwk(jwk), thumbprint);
    return { key: jwk, thumbprint };
  };

  private async keySet(issuer: string, refresh: boolean): Promise<KeySet> {
    const cached = this.sets.get(issuer);
    const maxAge = this.options.maxAgeMs ?? 10 * 60_000;
    if (cached && !refresh && Date.now() - cached.readAt < maxAge) return cached;
    const uri = (await this.options.jwksUri?.(issuer)) ?? (await this.discover(issuer));
    const body = (await this.getJson(uri, `${issuer}'s keys`)) as { keys?: unknown };
    if (!Array.isArray(body.keys)) throw new Error(`${uri} is not a JSON Web Key Set (no "keys" array)`);
    const set = { keys: body.keys as JWK[], readAt: Date.now() };
    this.sets.set(issuer, set);
    return set;
  }

  private async discover(issuer: string): Promise<string> {
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const metadata = (await this.getJson(url, `${issuer}'s OpenID configuration`)) as {
      issuer?: unknown;
      jwks_uri?: unknown;
    };
    // RFC 8414 section 3.3: metadata that names another issuer must not be used.
    if (metadata.issuer !== issuer)
      throw new Error(`${url} names the issuer ${String(metadata.issuer)}, not ${issuer}`);
    if (typeof metadata.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`);
    return metadata.jwks_uri;
  }

  private async getJson(url: string, what: string): Promise<unknown> {
    const response = await this.fetchImpl(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`could not read ${what} at ${url}: HTTP ${response.status}`);
    return response.json();
  }
}

/** The key a token's header names; with no key id, the set's only signing key. */
function pick(keys: readonly JWK[], kid: string | undefined): JWK | undefined {
  const signing = keys.filter((key) => key.use === undefined || key.use === 'sig');
  if (kid !== undefined) return signing.find((key) => key.kid === kid);
  return signing.length === 1 ? signing[0] : undefined;
}
