import type { Json, JsonObject } from '../../model/json.js';
import type { Execution, Verification } from '../types.js';

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A delivery holds when the receiver answered 2xx and echoed the message id. */
export function verify(execution: Pick<Execution, 'after'>): Verification {
  const after = isObject(execution.after) ? execution.after : {};
  const { id = null, status = null, acknowledgement = null } = after;
  const observed: Json = { status, acknowledgement };
  const expected: Json = { status: '2xx', id };
  if (typeof status !== 'number' || status < 200 || status >= 300)
    return { ok: false, observed, expected, reason: `the receiver did not accept the message (status ${status})` };
  const echoed = isObject(acknowledgement) ? acknowledgement.id : undefined;
  if (echoed !== id)
    return {
      ok: false,
      observed,
      expected,
      reason: `the receiver answered ${status} without echoing message id ${id} (it echoed ${JSON.stringify(echoed ?? null)})`,
    };
  return { ok: true, observed, expected };
}
