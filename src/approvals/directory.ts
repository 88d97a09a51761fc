import { createPublicKey, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ApproverFacts } from '../model/approval.js';
import { describeProblems } from '../model/request.js';

/** The bytes an approver signs: a fixed prefix, so a signature made for anything else never passes. */
export function approvalMessage(digest: string): Buffer {
  return Buffer.from(`writ-approval-v1:${digest}`, 'utf8');
}

/**
 * The directory of people: approvers (who may decide) and requesters (whose groups policy may
 * match). A requester's groups come from here, never from the request.
 */
export const directorySchema = z.strictObject({
  approvers: z.array(z.strictObject({
    id: z.string().min(1),
    groups: z.array(z.string().min(1)).default([]),
    /** Ed25519 public key: PEM (SPKI) or base64 of the 32 raw bytes. */
    publicKey: z.string().min(1).optional(),
  })),
  requesters: z.array(z.strictObject({
    id: z.string().min(1),
    groups: z.array(z.string().min(1)).default([]),
  })).optional(),
});
export type ApproverDirectoryInput = z.input<typeof directorySchema>;
export type DirectoryContent = z.output<typeof directorySchema>;

export function parseDirectory(input: unknown): DirectoryContent {
  const parsed = directorySchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid approver directory: ${describeProblems(parsed.error)}`);
  return parsed.data;
}

export interface ApproverDirectory {
  facts(approver: string, digest: string, signature: string | undefined): Promise<ApproverFacts>;
}

function toKey(text: string) {
  if (text.includes('BEGIN')) return createPublicKey(text);
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== 32) throw new Error('an Ed25519 public key in base64 must decode to 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export function approverDirectory(input: unknown): ApproverDirectory {
  const parsed = { data: parseDirectory(input) };
  const byId = new Map(parsed.data.approvers.map((approver) => [approver.id, { ...approver, key: approver.publicKey ? toKey(approver.publicKey) : undefined }]));
  return {
    async facts(approver, digest, signature) {
      const entry = byId.get(approver);
      if (!entry) return { known: false, groups: [], signatureValid: null };
      let signatureValid: boolean | null = null;
      if (signature && entry.key) {
        try {
          signatureValid = verify(null, approvalMessage(digest), entry.key, Buffer.from(signature, 'base64'));
        } catch {
          signatureValid = false;
        }
      } else if (signature) {
        signatureValid = false;
      }
      return { known: true, groups: entry.groups, signatureValid };
    },
  };
}

export async function approverDirectoryFromFile(path: string | undefined): Promise<ApproverDirectory> {
  if (!path) return approverDirectory({ approvers: [] });
  return approverDirectory(JSON.parse(await readFile(path, 'utf8')));
}
