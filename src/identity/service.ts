import type { ProviderKeyLookup } from '../verify/provider-token.js';
import type { People } from './people.js';

/** What a proof was used for: the same proof used for anything else is a replay. */
export interface ProofUse {
  use: 'request' | 'approve' | 'reject' | 'resolve';
  operationId: string;
}

/** Everything checking a proof needs; built once per worker, in plugin.ts. */
export interface IdentityContext {
  /** The directory in force now, read for identity. */
  people(): Promise<{ people: People; directoryVersion?: string }>;
  providerKeys: ProviderKeyLookup;
  /**
   * Puts the proof's use on the record, once: null when this is its first use (or a retry of the
   * same use), otherwise the use it was already put to.
   */
  consume(proofSha256: string, use: ProofUse): Promise<ProofUse | null>;
  now(): Date;
}
