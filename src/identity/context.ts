import type { LoadedDirectory } from '../governance/directory.js';
import type { GovernanceRecorder } from '../governance/recorder.js';
import { peopleOf } from './people.js';
import { ProviderKeys } from './provider-keys.js';
import type { IdentityContext } from './service.js';

export interface IdentityContextOptions {
  directory: () => Promise<LoadedDirectory>;
  /** Records the directory version and each provider key before a decision rests on them; absent: not recorded. */
  governance?: GovernanceRecorder;
  /** How provider keys are fetched (tests and air-gapped installs may route them). */
  fetch?: typeof fetch;
  /** The worker's clock, which tokens must be valid at (the plugin's `now`). */
  now?: () => Date;
}

/** The worker's identity checks: the directory in force, the providers' keys, and the record of proofs used. */
export function identityContext(options: IdentityContextOptions): IdentityContext {
  const people = async () => {
    const loaded = await options.directory();
    await options.governance?.directory(loaded);
    return { people: peopleOf(loaded.content), directoryVersion: loaded.version };
  };
  const keys = new ProviderKeys({
    jwksUri: async (issuer) =>
      (await options.directory()).content.identityProviders?.find((provider) => provider.issuer === issuer)?.jwksUri,
    ...(options.governance
      ? { everyUse: (issuer, jwk, thumbprint) => options.governance!.identityKey(issuer, { ...jwk }, thumbprint) }
      : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return {
    people,
    providerKeys: keys.lookup,
    consume: async (proofSha256, use) => {
      if (!options.governance) throw new Error('proofs of identity need the ledger to record their use');
      return options.governance.proofUse(proofSha256, use);
    },
    now: options.now ?? (() => new Date()),
  };
}
