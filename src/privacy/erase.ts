import type pg from 'pg';
import { PrivacyType } from '../model/events.js';
import { GroupCommitAppender } from '../ledger/appender.js';
import type { RecordDraft } from '../ledger/record.js';
import { WritError } from '../model/errors.js';
import type { HeldValue } from './erase-under-record.js';
import { inTransaction } from '../db/transaction.js';
import { deleteUnderRecord, selectValues, valueRefs } from './erase-under-record.js';

export interface EraseRequest {
  subject: string;
  reason: string;
  /** Who asked: recorded as the record's actor, marked asserted (the CLI cannot prove it). */
  by: string;
}

export interface Erased {
  eventIds: string[];
  values: number;
}

/**
 * Deletes every value held for one data subject and says so in the ledger, one `privacy.erased`
 * record per chain, in the same transaction as the deletion. Anything under a legal hold refuses
 * the whole erasure (nothing is deleted) and the refusal goes on the record.
 */
export async function eraseSubject(pool: pg.Pool, request: EraseRequest): Promise<Erased> {
  const asked = checked(request);
  const refusal = await inTransaction(pool, async (client) => {
    const values = await selectValues(client, 'WHERE v.subject = $1', [asked.subject]);
    if (!values.length)
      throw new WritError(
        'UNKNOWN_SUBJECT',
        `no personal values are held for subject ${JSON.stringify(asked.subject)}: it never had any, or they were erased already`,
      );
    const held = values.filter((value) => value.hold !== null);
    if (held.length) return held;
    const eventIds: string[] = [];
    for (const [chain, ofChain] of byChain(values))
      eventIds.push((await deleteUnderRecord(client, erasureDraft(asked, chain, ofChain), ofChain)).eventId);
    return { eventIds, values: values.length };
  });
  if (!Array.isArray(refusal)) return refusal;
  await recordRefusal(pool, asked, refusal);
  const holds = [...new Set(refusal.map((value) => value.hold))].join(', ');
  throw new WritError(
    'UNDER_HOLD',
    `nothing was erased: ${refusal.length} value(s) of subject ${JSON.stringify(asked.subject)} are under legal hold ${holds}; release the hold (writ hold release) or wait for it to end. The refusal is on the record.`,
  );
}

function checked(request: EraseRequest): EraseRequest {
  const problems = (['subject', 'reason', 'by'] as const).filter((name) => !request[name]?.trim());
  if (problems.length)
    throw new WritError('USAGE', `writ erase needs ${problems.map((name) => `--${name}`).join(', ')}`);
  return { subject: request.subject, reason: request.reason.trim(), by: request.by.trim() };
}

/** In chain order: two erasures that span the same chains take their chain locks in one order, never a cycle. */
function byChain(values: readonly HeldValue[]): Map<string, HeldValue[]> {
  const chains = new Map<string, HeldValue[]>();
  for (const value of [...values].sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0)))
    chains.set(value.chain, [...(chains.get(value.chain) ?? []), value]);
  return chains;
}

function actorOf(by: string) {
  return { id: by, kind: 'user' as const, groups: [], identity: 'asserted' as const };
}

function erasureDraft(request: EraseRequest, chain: string, values: readonly HeldValue[]): RecordDraft {
  return {
    type: PrivacyType.erased,
    chain,
    actor: actorOf(request.by),
    payload: { subject: request.subject, reason: request.reason, erased: valueRefs(values) },
  };
}

async function recordRefusal(pool: pg.Pool, request: EraseRequest, held: readonly HeldValue[]): Promise<void> {
  const drafts = [...byChain(held)].map(([chain, values]) => ({
    type: PrivacyType.eraseRefused,
    chain,
    actor: actorOf(request.by),
    payload: {
      subject: request.subject,
      reason: request.reason,
      holds: [...new Set(values.map((value) => value.hold))],
      held: valueRefs(values),
    },
  }));
  // One append per chain: an append is one transaction, and a transaction appends to one chain.
  const appender = new GroupCommitAppender(pool);
  await Promise.all(drafts.map((draft) => appender.append(draft)));
}
