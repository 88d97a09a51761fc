import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-writ-signature';

/**
 * `sha256=<hex>` of HMAC-SHA256 over the exact body bytes, as GitHub and Stripe-style receivers
 * expect: the receiver recomputes it over the raw body before parsing it.
 */
export const signBody = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
