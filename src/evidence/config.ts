import type { AnchorSink } from './anchors.js';
import { anchorsFromEnv } from './anchors.js';

export const DEFAULT_ORIGIN = 'writ';

export interface EvidenceConfig {
  /** The log's name in its checkpoints (`<origin>/<chain>`): WRIT_LOG_ORIGIN. */
  origin: string;
  /** WRIT_SIGNING_KEY: path of the Ed25519 PEM private key that signs checkpoints. */
  signingKeyPath?: string;
  /** WRIT_KEY_NAME: the key's name in signature lines. */
  keyName: string;
  /** WRIT_VERIFIER_KEY: the verifier key string, or a file holding it. */
  verifierKey?: string;
  anchors: AnchorSink[];
  /**
   * WRIT_CHECKPOINT_DATABASE_URL: the login that writes checkpoints (it holds writ_checkpointer,
   * which the worker's writer login does not); absent: the ledger's own URL.
   */
  checkpointDatabaseUrl?: string;
  /** WRIT_TSA_URL: the RFC 3161 time-stamp authority that stamps each checkpoint. */
  tsa?: { url: string };
  /** WRIT_TSA_CERT: the TSA's certificate (PEM, or a file holding it) that `writ verify` pins. */
  tsaCert?: string;
}

export function evidenceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): EvidenceConfig {
  const origin = env.WRIT_LOG_ORIGIN || DEFAULT_ORIGIN;
  return {
    origin,
    keyName: env.WRIT_KEY_NAME || 'writ',
    ...(env.WRIT_SIGNING_KEY ? { signingKeyPath: env.WRIT_SIGNING_KEY } : {}),
    ...(env.WRIT_VERIFIER_KEY ? { verifierKey: env.WRIT_VERIFIER_KEY } : {}),
    anchors: anchorsFromEnv(env, origin),
    ...(env.WRIT_CHECKPOINT_DATABASE_URL ? { checkpointDatabaseUrl: env.WRIT_CHECKPOINT_DATABASE_URL } : {}),
    ...(env.WRIT_TSA_URL ? { tsa: { url: env.WRIT_TSA_URL } } : {}),
    ...(env.WRIT_TSA_CERT ? { tsaCert: env.WRIT_TSA_CERT } : {}),
  };
}
