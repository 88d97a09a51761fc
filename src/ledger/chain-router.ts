import { createHash } from 'node:crypto';
import { configFromEnv } from '../config/writ-config.js';
import { WritError } from '../model/errors.js';
import { CHAIN_ID, DEFAULT_CHAIN } from './record.js';

/** The most chains `hash:<n>` spreads over: each is a lock, a Merkle tree and a checkpoint of its own. */
export const MAX_HASH_CHAINS = 64;

/**
 * Where a deployment's records go (WRIT_CHAINS), fixed once at start. An operation's chain is
 * chosen by `chainFor` when its first record is written and then carried with the operation, so a
 * later change of WRIT_CHAINS never splits a running operation; records tied to no operation go
 * to `home`.
 */
export interface ChainRouter {
  /** The setting as given, normalised: `single`, `namespace` or `hash:<n>`. */
  readonly spec: string;
  /** The chain of records tied to no operation: worker starts, evidence access, hand-written notes. */
  readonly home: string;
  /** The chain a new operation's records all go to. */
  chainFor(operationId: string): string;
}

export function chainsConfigError(message: string): WritError {
  return new WritError(
    'CONFIG',
    `WRIT_CHAINS: ${message}`,
    'Set WRIT_CHAINS to single (the default: every record on chain main), namespace (one chain per Temporal namespace) or hash:<n> with n from 1 to 64.',
  );
}

/**
 * Reads WRIT_CHAINS. `namespace` is the Temporal namespace this process serves: the usual
 * Temporal way to keep tenants apart, so one chain per namespace is one chain per tenant.
 */
export function chainRouter(spec: string | undefined, namespace: string): ChainRouter {
  const given = (spec ?? '').trim();
  if (given === '' || given === 'single') return fixed('single', DEFAULT_CHAIN);
  if (given === 'namespace') {
    if (!CHAIN_ID.test(namespace))
      throw chainsConfigError(
        `namespace mode names each chain after its Temporal namespace, and ${JSON.stringify(namespace)} is not a chain id (1-64 lower-case letters, digits, "_", "." or "-", starting with a letter or digit)`,
      );
    return fixed('namespace', namespace);
  }
  const hashed = /^hash:(\d{1,3})$/.exec(given);
  if (hashed) {
    const n = Number(hashed[1]);
    if (n < 1 || n > MAX_HASH_CHAINS)
      throw chainsConfigError(`hash:${n} is out of range: n must be 1 to ${MAX_HASH_CHAINS}`);
    return {
      spec: `hash:${n}`,
      // Records about no operation have no id to hash: they stay where a single-chain deployment has them.
      home: DEFAULT_CHAIN,
      chainFor: (operationId) => hashedChain(operationId, n),
    };
  }
  throw chainsConfigError(`${JSON.stringify(given)} is not single, namespace or hash:<n>`);
}

/** The deployment's router as the environment sets it (WRIT_CHAINS, TEMPORAL_NAMESPACE), for commands run by hand. */
export function chainRouterFromEnv(env: NodeJS.ProcessEnv = process.env): ChainRouter {
  return chainRouter(env.WRIT_CHAINS, configFromEnv(env).namespace);
}

/** `op-<k>`: k from the first four bytes of SHA-256 of the operation id, so any process agrees. */
export function hashedChain(operationId: string, n: number): string {
  const digest = createHash('sha256').update(operationId, 'utf8').digest();
  return `op-${digest.readUInt32BE(0) % n}`;
}

/** Every chain `hash:<n>` can produce, for operators and benchmarks. */
export function hashedChains(n: number): string[] {
  return Array.from({ length: n }, (_, k) => `op-${k}`);
}

function fixed(spec: string, chain: string): ChainRouter {
  return { spec, home: chain, chainFor: () => chain };
}
