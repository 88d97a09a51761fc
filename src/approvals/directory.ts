import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ApproverFacts } from '../model/approval.js';
import { canonicalId } from '../model/identity.js';
import { describeIssues } from '../model/issues.js';
import { identitySchema } from '../model/request.js';
import type { DecisionBinding } from '../verify/decision-signature.js';
import { approverKeyId, parsePublicKey, verifyDecisionSignature } from '../verify/decision-signature.js';

export { decisionMessage } from '../verify/decision-signature.js';
export type { DecisionBinding, DecisionKind } from '../verify/decision-signature.js';

/**
 * The directory of people: approvers (who may decide) and requesters (whose groups policy may
 * match). A requester's groups come from here, never from the request.
 */
/** How a person signs in: their subject at a trusted identity provider. */
const loginSchema = z.strictObject({ issuer: z.string().min(1), subject: z.string().min(1) });
/** A Slack user in a pinned workspace. */
const slackUserSchema = z.strictObject({ team: z.string().min(1), user: z.string().min(1) });

/** How the directory recognises a person in each channel (docs/FORMAT.md, "Identity proofs"). */
const recognisedBy = {
  /** Ed25519 public key: PEM (SPKI) or base64 of the 32 raw bytes. */
  publicKey: z.string().min(1).optional(),
  /** Their subjects at the directory's identity providers. */
  logins: z.array(loginSchema).optional(),
  /** Matched against a provider's `email` claim only where the provider says it is verified. */
  email: z.string().min(3).max(320).optional(),
  slack: z.array(slackUserSchema).optional(),
};

/**
 * The directory of people: approvers (who may decide) and requesters (whose groups policy may
 * match), and the identity providers and Writ channels whose word on who someone is counts. A
 * requester's groups come from here, never from the request.
 */
export const directorySchema = z.strictObject({
  approvers: z.array(
    z.strictObject({
      /** Canonicalised as it is read (model/identity.ts): the directory holds canonical ids only. */
      id: identitySchema('id'),
      groups: z.array(z.string().min(1)).default([]),
      kind: z.enum(['user', 'service']).optional(),
      ...recognisedBy,
    }),
  ),
  requesters: z
    .array(
      z.strictObject({
        id: identitySchema('id'),
        groups: z.array(z.string().min(1)).default([]),
        kind: z.enum(['user', 'service']).optional(),
        ...recognisedBy,
      }),
    )
    .optional(),
  /**
   * Who may resolve an operation that needs intervention: members of these groups. Absent: the
   * members of the operation's approver groups (any directory person when the policy names none).
   */
  resolverGroups: z.array(z.string().min(1)).min(1).optional(),
  /** OpenID Connect providers whose tokens prove who someone is, and the audiences (client ids) Writ accepts. */
  identityProviders: z
    .array(
      z.strictObject({
        issuer: z.url({ protocol: /^https?$/ }),
        audiences: z.array(z.string().min(1)).min(1),
        /** Where its keys are; absent: discovered from the issuer's `.well-known/openid-configuration`. */
        jwksUri: z.url({ protocol: /^https?$/ }).optional(),
      }),
    )
    .optional(),
  /** Writ channels (`writ serve`) whose signed assertions carry decisions made through them. */
  channels: z.array(z.strictObject({ name: z.string().min(1).max(128), publicKey: z.string().min(1) })).optional(),
  /** Slack workspaces whose users may decide through Slack (team ids). */
  slackTeams: z.array(z.string().min(1)).optional(),
});
export type ApproverDirectoryInput = z.input<typeof directorySchema>;
export type DirectoryContent = z.output<typeof directorySchema>;

export function parseDirectory(input: unknown): DirectoryContent {
  const parsed = directorySchema.safeParse(input);
  if (!parsed.success)
    throw new Error(`invalid approver directory: ${describeIssues(parsed.error, { whole: '(directory)' })}`);
  return parsed.data;
}

export interface ApproverDirectory {
  /**
   * What the directory says about `approver` (any spelling: it is canonicalised here), and whether
   * `signature` is theirs over the message `binding` names (no binding: it cannot verify).
   */
  facts(
    approver: string,
    digest: string,
    signature: string | undefined,
    binding?: Omit<DecisionBinding, 'digest'>,
  ): Promise<ApproverFacts>;
}

export function approverDirectory(input: unknown): ApproverDirectory {
  const parsed = { data: parseDirectory(input) };
  const byId = new Map<
    string,
    { groups: string[]; key: ReturnType<typeof parsePublicKey> | undefined; keyId: string | null }
  >();
  for (const [index, approver] of parsed.data.approvers.entries()) {
    // Two spellings of one person would be one person with two sets of groups and keys.
    if (byId.has(approver.id))
      throw new Error(
        `invalid approver directory: approvers.${index}.id names ${approver.id} a second time (ids are compared case- and width-insensitively)`,
      );
    let key;
    try {
      key = approver.publicKey ? parsePublicKey(approver.publicKey) : undefined;
    } catch (error) {
      throw new Error(`invalid approver directory: approvers.${index}.publicKey: ${(error as Error).message}`);
    }
    byId.set(approver.id, { groups: approver.groups, key, keyId: key ? approverKeyId(key) : null });
  }
  const resolverGroups = parsed.data.resolverGroups;
  return {
    async facts(approver, digest, signature, binding) {
      const canonical = canonicalId(approver);
      const entry = canonical.ok ? byId.get(canonical.id) : undefined;
      const settings = resolverGroups ? { resolverGroups } : {};
      if (!entry) return { known: false, groups: [], signatureValid: null, keyId: null, ...settings };
      let signatureValid: boolean | null = null;
      if (signature)
        signatureValid =
          Boolean(entry.key && binding) && verifyDecisionSignature({ ...binding!, digest }, signature, entry.key!);
      return { known: true, groups: entry.groups, signatureValid, keyId: entry.keyId, ...settings };
    },
  };
}

export async function approverDirectoryFromFile(path: string | undefined): Promise<ApproverDirectory> {
  if (!path) return approverDirectory({ approvers: [] });
  return approverDirectory(JSON.parse(await readFile(path, 'utf8')));
}
