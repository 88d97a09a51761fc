/**
 * Legal holds (docs/FORMAT.md 17): placed and released as ledger records through the ordinary
 * appender, read back from their projection writ.holds. The database is the authority: its trigger
 * refuses a hold record that makes no sense and one release too many, and writ.hold_covering() is
 * what erasure asks. The checks here come first only so that a person gets a clear answer.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { GroupCommitAppender } from '../ledger/appender.js';
import type { RecordDraft } from '../ledger/record.js';
import { WritError, isWritError } from '../model/errors.js';
import { HoldType } from '../model/events.js';
import { NO_PROOF } from '../model/identity-proof.js';
import type { HoldScope, ScopeRequest } from './hold-input.js';
import { holdIdFrom, holdReason, holdRefusal, holdScopeFrom, personId } from './hold-input.js';
import { findHold } from './holds-read.js';

export type { Hold } from './holds-read.js';
export { activeHolds, allHolds, findHold } from './holds-read.js';

export interface PlaceHoldInput {
  scope: ScopeRequest;
  reason: string;
  /** Who places it: a person's id, recorded as asserted (nothing proves it). */
  by: string;
}

export interface ReleaseHoldInput {
  holdId: string;
  reason: string;
  by: string;
}

/** Where the hold's record landed. */
export interface HoldReceipt {
  holdId: string;
  chain: string;
  seq: number;
  eventId: string;
}

export interface CoveredValue {
  operationId?: string | null;
  correlationId?: string | null;
  actorId?: string | null;
  occurredAt?: Date | string | null;
}

export async function placeHold(pool: pg.Pool, input: PlaceHoldInput): Promise<HoldReceipt> {
  const scope: HoldScope = holdScopeFrom(input.scope);
  const reason = holdReason(input.reason);
  const holdId = randomUUID();
  return appendHoldRecord(pool, holdId, {
    type: HoldType.placed,
    idempotencyKey: `hold/${holdId}/placed`,
    ...byAndPayload(input.by, { holdId, scope, reason }),
  });
}

export async function releaseHold(pool: pg.Pool, input: ReleaseHoldInput): Promise<HoldReceipt> {
  const holdId = holdIdFrom(input.holdId);
  const reason = holdReason(input.reason);
  const by = byAndPayload(input.by, { holdId, reason });
  const hold = await findHold(pool, holdId);
  if (!hold) throw holdRefusal(`there is no hold ${holdId} (writ hold list --all shows every hold)`);
  if (hold.released)
    throw holdRefusal(`hold ${holdId} was already released, by ${hold.released.by} at ${hold.released.at}`);
  // A key of its own per attempt: two releases racing are told apart by the database's trigger
  // (one wins, the other is refused whole) rather than recorded as a key conflict.
  return appendHoldRecord(pool, holdId, {
    type: HoldType.released,
    idempotencyKey: `hold/${holdId}/released/${randomUUID()}`,
    ...by,
  });
}

/** The id of an active hold covering a value recorded with these facts, or null. */
export async function holdCovering(pool: pg.Pool, value: CoveredValue): Promise<string | null> {
  const occurredAt = value.occurredAt instanceof Date ? value.occurredAt.toISOString() : (value.occurredAt ?? null);
  const { rows } = await pool.query<{ hold: string | null }>(
    'SELECT writ.hold_covering($1, $2, $3, $4::timestamptz) AS hold',
    [value.operationId ?? null, value.correlationId ?? null, value.actorId ?? null, occurredAt],
  );
  return rows[0]?.hold ?? null;
}

/**
 * The person as the record's actor, marked asserted as every unproven identity in Writ is, with the
 * identity evidence a decision record carries (FORMAT 14.4) and the id as typed when it differs.
 */
function byAndPayload(rawBy: string, payload: Record<string, unknown>): Pick<RecordDraft, 'actor' | 'payload'> {
  const by = personId(rawBy ?? '', 'who (--by)');
  return {
    actor: { id: by, kind: 'user', groups: [], identity: 'asserted' },
    payload: {
      ...payload,
      identity: { verified: NO_PROOF.verified, id: NO_PROOF.id, channel: NO_PROOF.channel },
      ...(rawBy !== by ? { byAsGiven: rawBy } : {}),
    },
  };
}

async function appendHoldRecord(pool: pg.Pool, holdId: string, draft: RecordDraft): Promise<HoldReceipt> {
  // An appender of its own: a hold record the database refuses must not take anyone else's
  // records in the same batch down with it.
  const appender = new GroupCommitAppender(pool);
  try {
    const result = await appender.append(draft);
    return { holdId, chain: result.chain, seq: result.seq, eventId: result.eventId };
  } catch (error) {
    throw explainRefusal(error);
  }
}

const HOLD_REFUSALS = new Set(['WRT31', 'WRT32', 'WRT33']);
const NOT_PERMITTED = new Set(['42501']);

/** The database's refusal of a hold record, in the words of a usage error. */
function explainRefusal(error: unknown): unknown {
  const cause: unknown = isWritError(error) ? error.cause : error;
  const code = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (typeof code === 'string' && HOLD_REFUSALS.has(code)) return holdRefusal(message.replace(/^writ\.holds: /, ''));
  if (typeof code === 'string' && NOT_PERMITTED.has(code))
    return new WritError(
      'USAGE',
      `refused, nothing recorded: this database login may not append hold records (${message})`,
      'Hold records are appended only by logins that hold the role writ_hold_keeper.',
    );
  return error;
}
