import * as oidc from 'openid-client';
import type { IdentityProof } from '../model/identity-proof.js';
import type { OperationState } from '../model/operation.js';
import type { DecisionResponse } from '../workflows/governed-write/messages.js';
import type { ChannelSigner } from '../identity/channel-signer.js';
import type { People } from '../identity/people.js';
import { DEFAULT_SESSION_TTL_SECONDS } from './sso-config.js';
import { SessionStore } from './sso-session.js';

/** What the approval pages ask of Temporal: WritClient does all of it (the CLI hands one in). */
export interface ApprovalDesk {
  state(operationId: string): Promise<OperationState>;
  approve(operationId: string, attempt: SentDecision): Promise<DecisionResponse>;
  reject(operationId: string, attempt: SentDecision): Promise<DecisionResponse>;
  awaitingApproval(): Promise<Array<{ operationId: string }>>;
}

export interface SentDecision {
  approver: string;
  reason: string;
  digest: string;
  proof: IdentityProof;
}

/** Single sign-on approvals: the provider, this channel's signing key, Temporal and the directory. */
export interface SsoOptions {
  issuer: string;
  clientId: string;
  /** Absent: a public client (PKCE only). */
  clientSecret?: string;
  channel: ChannelSigner;
  /** Reads operations and sends decisions. */
  writ: ApprovalDesk;
  /** The directory in force, read afresh for each login and decision. */
  people: () => Promise<People>;
  sessionTtlSeconds?: number;
}

export interface SsoContext {
  options: SsoOptions;
  sessions: SessionStore;
  /** The provider's metadata, discovered on first use (and again after a failure). */
  provider(): Promise<oidc.Configuration>;
  redirectUri(): string;
}

export function ssoContext(options: SsoOptions, server: { now: () => number; baseUrl: () => string }): SsoContext {
  let discovered: Promise<oidc.Configuration> | undefined;
  const secure = () => server.baseUrl().startsWith('https:');
  return {
    options,
    sessions: new SessionStore({
      ttlMs: (options.sessionTtlSeconds ?? DEFAULT_SESSION_TTL_SECONDS) * 1000,
      now: server.now,
      get secure() {
        return secure();
      },
    }),
    provider: () => {
      discovered ??= discover(options).catch((error: unknown) => {
        discovered = undefined;
        throw error;
      });
      return discovered;
    },
    redirectUri: () => `${server.baseUrl()}/callback`,
  };
}

function discover(options: SsoOptions): Promise<oidc.Configuration> {
  const authentication = options.clientSecret ? oidc.ClientSecretBasic(options.clientSecret) : oidc.None();
  // Plain http is allowed for a provider on this machine only (sso-config.ts refuses it elsewhere).
  const local = new URL(options.issuer).protocol === 'http:';
  return oidc.discovery(new URL(options.issuer), options.clientId, undefined, authentication, {
    ...(local ? { execute: [oidc.allowInsecureRequests] } : {}),
  });
}
