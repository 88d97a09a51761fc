import type { JsonObject } from '../../model/json.js';
import type { ActionCall, RollbackResult } from '../types.js';
import type { Deliver } from './deliver.js';
import type { NotifyParams } from './message.js';
import { messageId, quote } from './message.js';

/** A message cannot be unsent: a correction that names the original goes out instead. */
export async function rollback(
  deliver: Deliver,
  { target, params: p }: ActionCall<NotifyParams>,
  { idempotencyKey }: { idempotencyKey: string },
): Promise<RollbackResult> {
  const original = messageId(idempotencyKey);
  const key = `${idempotencyKey}/rollback`;
  const correction: JsonObject = {
    id: messageId(key),
    kind: 'correction',
    corrects: original,
    channel: target,
    message: `Correction: please disregard message ${original} (${quote(p.message)}); the operation that sent it was rolled back.`,
  };
  const delivery = await deliver(correction, key);
  return {
    restored: null,
    detail: {
      correction: correction.id!,
      corrects: original,
      status: delivery.status,
      attempts: delivery.attempts,
      acknowledgement: delivery.answer,
    },
  };
}
