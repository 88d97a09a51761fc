/**
 * What a person asks for when placing or releasing a legal hold, checked before anything is
 * written: exactly one scope, a reason, a person's id. Pure, so the CLI and the library refuse the
 * same input in the same words; the database refuses the same things again (migrations/0008).
 */
import { WritError } from '../model/errors.js';
import { canonicalId } from '../model/identity.js';

/** What a hold covers: one operation, one correlation id, one actor, or a span of occurredAt. */
export type HoldScope = { operationId: string } | { correlationId: string } | { actorId: string } | HoldRange;
/** Both ends inclusive, RFC 3339 UTC as Writ writes occurredAt. */
export interface HoldRange {
  from: string;
  to: string;
}

/** The scope as a person gives it (the CLI's flags): any subset, checked by `holdScopeFrom`. */
export interface ScopeRequest {
  operationId?: string | undefined;
  correlationId?: string | undefined;
  actorId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export const MAX_REASON_LENGTH = 2000;
const MAX_ID_LENGTH = 256;
const CORRELATION_ID = /^[0-9a-f]{32}$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
// RFC 3339 with a time and an offset (Z or +hh:mm); JavaScript's Date accepts far more than that.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function holdRefusal(problem: string): WritError {
  return new WritError('USAGE', `refused, nothing recorded: ${problem}`);
}

const SCOPE_NAMES = { operationId: 'an operation', correlationId: 'a correlation id', actorId: 'an actor' } as const;

/** Exactly one scope, normalised (a correlation id lower-cased, an actor canonical, times in UTC). */
export function holdScopeFrom(request: ScopeRequest): HoldScope {
  const given = (Object.keys(SCOPE_NAMES) as (keyof typeof SCOPE_NAMES)[]).filter((key) => request[key] !== undefined);
  const ranged = request.from !== undefined || request.to !== undefined;
  const kinds = [...given.map((key) => SCOPE_NAMES[key]), ...(ranged ? ['a time range'] : [])];
  if (kinds.length === 0) throw holdRefusal('give one scope: an operation, a correlation id, an actor, or from and to');
  if (kinds.length > 1) throw holdRefusal(`give one scope only, not ${kinds.join(' and ')} (place one hold for each)`);
  if (ranged) return holdRange(request.from, request.to);
  if (request.operationId !== undefined) return { operationId: plainId(request.operationId, 'the operation id') };
  if (request.correlationId !== undefined) {
    const id = request.correlationId.trim().toLowerCase();
    if (!CORRELATION_ID.test(id))
      throw holdRefusal(`the correlation id must be 32 hex digits (a W3C trace-id), not ${JSON.stringify(id)}`);
    return { correlationId: id };
  }
  return { actorId: personId(request.actorId!, 'the actor') };
}

function holdRange(from: string | undefined, to: string | undefined): HoldRange {
  if (from === undefined || to === undefined) throw holdRefusal('a time range needs both from and to');
  const start = instant(from, 'start');
  const end = instant(to, 'end');
  if (start > end) throw holdRefusal(`the range starts (${from}) after it ends (${to})`);
  return { from: start.toISOString(), to: end.toISOString() };
}

/** A day alone means all of it: from its first millisecond, or to its last (both ends count). */
function instant(text: string, end: 'start' | 'end'): Date {
  const value = text.trim();
  const dayOnly = DATE_ONLY.test(value);
  if (!dayOnly && !DATE_TIME.test(value))
    throw holdRefusal(
      `${JSON.stringify(text)} is not a date (2025-03-31) or an RFC 3339 time with an offset (2025-03-31T12:00:00Z)`,
    );
  const date = new Date(dayOnly ? `${value}T${end === 'start' ? '00:00:00.000' : '23:59:59.999'}Z` : value);
  // Date rolls 2025-02-31 over into March; a day that does not exist is a typing error.
  if (Number.isNaN(date.getTime()) || (dayOnly && date.toISOString().slice(0, 10) !== value))
    throw holdRefusal(`${JSON.stringify(text)} is not a real date`);
  return date;
}

function plainId(raw: string, what: string): string {
  const id = raw.trim();
  if (!id) throw holdRefusal(`${what} is empty`);
  if (id.length > MAX_ID_LENGTH) throw holdRefusal(`${what} is longer than ${MAX_ID_LENGTH} characters`);
  return id;
}

/** A person's id, canonical as every person's id in Writ is (docs/FORMAT.md 13.1). */
export function personId(raw: string, what: string): string {
  const checked = canonicalId(raw);
  if (!checked.ok) throw holdRefusal(`${what}: ${checked.problem}`);
  return checked.id;
}

export function holdReason(raw: string | undefined): string {
  const reason = raw?.trim() ?? '';
  if (!reason) throw holdRefusal('give a reason (--reason): why the hold is placed or released');
  if (reason.length > MAX_REASON_LENGTH) throw holdRefusal(`the reason is longer than ${MAX_REASON_LENGTH} characters`);
  return reason;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function holdIdFrom(raw: string): string {
  const id = raw.trim().toLowerCase();
  if (!UUID.test(id)) throw holdRefusal(`${JSON.stringify(raw)} is not a hold id (a UUID, as writ hold list shows)`);
  return id;
}
