import { createHash } from 'node:crypto';
import type { AppendResult, LedgerAppender } from '../ledger/appender.js';
import type { RecordDraft } from '../ledger/record.js';
import type { Evidence } from './evidence.js';
import type { LinkGrant } from './signed-links.js';

/** A CSV or JSON download through a signed link (docs/FORMAT.md, "Access records"). */
export const EVIDENCE_DOWNLOADED = 'evidence.downloaded';
/** The timeline page opened through a signed link: the same data, so just as worth knowing. */
export const EVIDENCE_VIEWED = 'evidence.viewed';

/**
 * The record of one use of a signed link, appended before anything is sent: if it cannot be
 * recorded, nothing is disclosed. It names the id in its payload, not as its operationId or
 * correlationId: reading the evidence must not change it, and a record filed under the operation
 * would become part of the next download, move the operation's "last event" and count as one of
 * its events.
 */
export function accessDraft(grant: LinkGrant, evidence: Evidence, served?: Buffer): RecordDraft {
  const operationIds = evidence.summary?.operations.map((op) => op.operationId) ?? [];
  return {
    type: grant.format === 'timeline' ? EVIDENCE_VIEWED : EVIDENCE_DOWNLOADED,
    actor: { id: grant.requester, kind: 'user', groups: [] },
    payload: {
      id: grant.id,
      matchedBy: evidence.summary?.matchedBy ?? 'correlation',
      operationIds,
      format: grant.format,
      requester: grant.requester,
      linkExpiresAt: new Date(grant.expires * 1000).toISOString(),
      via: 'writ serve',
      // What was handed over, so a copy that turns up later can be matched to this record.
      ...(served ? { bytes: served.length, sha256: createHash('sha256').update(served).digest('hex') } : {}),
    },
  };
}

/**
 * Appends an access record where an auditor of the disclosed evidence looks for it: on the chain
 * of the operations disclosed, beside their records (and in their checkpoints). Evidence that
 * spans several chains gets one record on each, naming the operations of that chain; evidence of
 * no operation goes to the appender's home chain. All are written before anything is disclosed.
 * Returns the first record.
 */
export async function recordAccess(
  appender: LedgerAppender,
  draft: RecordDraft,
  evidence: Evidence,
): Promise<AppendResult> {
  const byChain = new Map<string, string[]>();
  for (const op of evidence.summary?.operations ?? [])
    byChain.set(op.chainId, [...(byChain.get(op.chainId) ?? []), op.operationId]);
  if (!byChain.size) return appender.append(draft);
  const results = await Promise.all(
    [...byChain].map(([chain, operationIds]) =>
      appender.append({ ...draft, chain, payload: { ...draft.payload, operationIds } }),
    ),
  );
  return results[0]!;
}

/** One page of the Slack timeline modal, as sent to Slack for one user. */
export interface ModalAccess {
  id: string;
  requester: string;
  page: number;
  pages: number;
  /** Unix seconds: the expiry of the signed timeline link the page ends with. */
  linkExpires: number;
  /** The view as sent to Slack. */
  served: Buffer;
}

/**
 * A page of the Slack modal is the same evidence as the timeline page, so it is recorded the same
 * way (an `evidence.viewed` record, appended before the view goes to Slack), with the page shown.
 */
export function modalAccessDraft(access: ModalAccess, evidence: Evidence): RecordDraft {
  const draft = accessDraft(
    { format: 'timeline', id: access.id, requester: access.requester, expires: access.linkExpires },
    evidence,
    access.served,
  );
  return { ...draft, payload: { ...draft.payload, format: 'slack-modal', page: access.page, pages: access.pages } };
}
