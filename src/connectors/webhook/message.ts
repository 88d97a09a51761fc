import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Json, JsonObject } from '../../model/json.js';

export interface NotifyParams {
  message: string;
  data?: Record<string, Json>;
}

export const params: z.ZodType<NotifyParams> = z.strictObject({
  message: z.string().min(1),
  data: z.record(z.string(), z.json()).optional(),
});

const CHANNEL = /^[^\s\p{Cc}]{1,200}$/u;

export const channelProblems = (channel: string) =>
  CHANNEL.test(channel)
    ? []
    : [`channel ${JSON.stringify(channel)} must be 1 to 200 characters without spaces, e.g. #billing`];

/** Derived from the key, so every retry sends the same id and a rollback can name the original. */
export const messageId = (idempotencyKey: string) =>
  `msg_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}`;

export const quote = (text: string) => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);

/** The message as it would go out, before it has an id. */
export const unsent = (channel: string, p: NotifyParams): JsonObject => ({
  channel,
  message: p.message,
  data: p.data ?? {},
  kind: 'notification',
});
