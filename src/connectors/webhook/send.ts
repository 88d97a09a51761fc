import type { ActionCall, Execution } from '../types.js';
import { ConnectorInputError } from '../types.js';
import type { Deliver } from './deliver.js';
import type { NotifyParams } from './message.js';
import { channelProblems, messageId, unsent } from './message.js';

export async function execute(
  deliver: Deliver,
  { target, params: p }: ActionCall<NotifyParams>,
  { idempotencyKey }: { idempotencyKey: string },
): Promise<Execution> {
  const problems = channelProblems(target);
  if (problems.length) throw new ConnectorInputError(problems.join('; '));
  const id = messageId(idempotencyKey);
  const delivery = await deliver({ id, ...unsent(target, p) }, idempotencyKey);
  // The acknowledgement is what verify checks, and all it gets is `after`.
  return {
    after: { id, channel: target, status: delivery.status, acknowledgement: delivery.answer },
    detail: { attempts: delivery.attempts },
  };
}
