import type { JWK } from 'jose';
import { calculateJwkThumbprint } from 'jose';
import { GovernanceType } from '../../model/events.js';
import type { ProviderKeyLookup } from '../provider-token.js';
import type { ParsedRecord, Report } from './parse.js';
import { isObject } from './parse.js';

/**
 * The identity providers' keys a bundle carries: each governance.identity_key record, recorded
 * the first time its key verified a token. Offline, a provider's token is checked against these
 * and nothing else: the keys on record before the record that rests on them.
 */
interface RecordedKey {
  seq: number;
  issuer: string;
  thumbprint: string;
  jwk: JWK;
}

/** Members of a JWK that are never public: a recorded key holding one is not a public key. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

export class RecordedProviderKeys {
  private constructor(private readonly keys: readonly RecordedKey[]) {}

  /** Reads and checks the bundle's governance.identity_key records: each thumbprint is its key's. */
  static async read(records: readonly ParsedRecord[], report: Report): Promise<RecordedProviderKeys> {
    const keys: RecordedKey[] = [];
    for (const { seq, record } of records) {
      if (record?.type !== GovernanceType.identityKey) continue;
      const payload = isObject(record.payload) ? record.payload : {};
      const { issuer, thumbprint, jwk } = payload;
      if (typeof issuer !== 'string' || typeof thumbprint !== 'string' || !isObject(jwk)) {
        report('IDENTITY_KEY_INVALID', 'governance.identity_key: not {issuer, thumbprint, jwk}', seq);
        continue;
      }
      const secret = PRIVATE_MEMBERS.filter((name) => name in jwk);
      if (secret.length) {
        report(
          'IDENTITY_KEY_INVALID',
          `governance.identity_key: the key holds private members (${secret.join(', ')})`,
          seq,
        );
        continue;
      }
      let actual: string;
      try {
        actual = await calculateJwkThumbprint(jwk as JWK, 'sha256');
      } catch (error) {
        report('IDENTITY_KEY_INVALID', `governance.identity_key: not a usable JWK: ${(error as Error).message}`, seq);
        continue;
      }
      if (actual !== thumbprint) {
        report(
          'IDENTITY_KEY_INVALID',
          `governance.identity_key: the key's RFC 7638 thumbprint is ${actual}, not ${thumbprint}`,
          seq,
        );
        continue;
      }
      keys.push({ seq, issuer, thumbprint, jwk: jwk as JWK });
    }
    return new RecordedProviderKeys(keys);
  }

  /** How checkProviderToken finds a key offline: among those on record before record `beforeSeq`. */
  lookupBefore(beforeSeq: number): ProviderKeyLookup {
    return (issuer, header) => {
      const candidates = this.keys.filter((k) => k.issuer === issuer && k.seq < beforeSeq);
      const found =
        header.kid !== undefined
          ? candidates.find((k) => k.jwk.kid === header.kid)
          : candidates.length === 1
            ? candidates[0]
            : undefined;
      return Promise.resolve(found ? { key: found.jwk, thumbprint: found.thumbprint } : null);
    };
  }

  /** True when a key of this issuer and thumbprint is on record before record `beforeSeq`. */
  has(issuer: string, thumbprint: string, beforeSeq: number): boolean {
    return this.keys.some((k) => k.issuer === issuer && k.thumbprint === thumbprint && k.seq < beforeSeq);
  }
}
