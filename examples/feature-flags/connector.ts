/**
 * A worked example of a Writ connector (docs/CONNECTORS.md walks through it): feature flags in a
 * flag service. The "service" here is an in-memory store so the example runs anywhere; a real
 * connector would call the service's API in the same places.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Connector, ConnectorAction } from '../../src/connectors/types.js';
import { ConnectorInputError } from '../../src/connectors/types.js';
import type { Json } from '../../src/model/json.js';

/** Stands in for the flag service's API. */
export class FlagStore {
  readonly flags = new Map<string, boolean>();
  /** What the service remembers of idempotency keys, as real APIs with Idempotency-Key do. */
  readonly applied = new Map<string, Json>();
  writes = 0;
  /** The service's own rules, which may store something other than what a client sent. */
  rewrite: ((flag: string, enabled: boolean) => boolean) | undefined;

  /** Stands in for the API's write endpoint. */
  set(flag: string, enabled: boolean): void {
    this.flags.set(flag, this.rewrite ? this.rewrite(flag, enabled) : enabled);
    this.writes++;
  }
}

const version = (state: Json) =>
  state === null ? 'absent' : `sha256:${createHash('sha256').update(JSON.stringify(state)).digest('hex')}`;

export function featureFlagsConnector(store: FlagStore): Connector {
  const read = (flag: string): Json => (store.flags.has(flag) ? { enabled: store.flags.get(flag)! } : null);

  // 1. Declare what a dry run and a rollback can promise: `writ connectors` prints this.
  const set: ConnectorAction<{ enabled: boolean }> = {
    params: z.strictObject({ enabled: z.boolean() }),
    contract: {
      supportsDryRun: true,
      sideEffects: 'none-on-dry-run',
      canRollback: true,
      method: 'snapshot-restore',
      windowMs: 24 * 3600 * 1000,
      limitations: 'clients that cached the flag keep the new value until their cache expires',
    },
    // 2. A stable identity of what is written, for the ledger and policy matching.
    identity: ({ target }) => `flags:${target}`,
    // 3. Problems with the call against the system as it is now.
    validate: async ({ target }) =>
      /^[a-z][a-z0-9-]*$/.test(target) ? [] : [`flag name "${target}" must be lower-case words joined by "-"`],
    // 4. The state before, and a version that changes whenever the target does.
    snapshot: async ({ target }) => ({ version: version(read(target)), state: read(target) }),
    // 5. What would change, without changing it.
    preview: async ({ target, params }, before) => ({
      before: before.state,
      after: { enabled: params.enabled },
      summary: `would set ${target} to ${params.enabled}`,
    }),
    // 6. The write, idempotent under the key: a retried activity must not apply it twice.
    execute: async ({ target, params }, { idempotencyKey }) => {
      const earlier = store.applied.get(idempotencyKey);
      if (earlier !== undefined) return { after: earlier };
      if (!store.flags.has(target)) throw new ConnectorInputError(`flag ${target} does not exist`);
      store.set(target, params.enabled);
      store.applied.set(idempotencyKey, read(target));
      return { after: read(target) };
    },
    // 7. Read back and compare with what was asked: never with what the service answered, which
    //    echoes whatever it stored (a service that rewrote the value would pass its own echo).
    verify: async ({ target, params }) => {
      const observed = read(target);
      const expected = { enabled: params.enabled };
      const ok = JSON.stringify(observed) === JSON.stringify(expected);
      return ok
        ? { ok, observed, expected }
        : {
            ok,
            observed,
            expected,
            reason: `${target} is ${JSON.stringify(observed)}, not ${JSON.stringify(expected)}`,
          };
    },
    // 8. Undo according to the contract, idempotently too.
    rollback: async ({ target }, { idempotencyKey, before }) => {
      const key = `${idempotencyKey}/rollback`;
      if (!store.applied.has(key)) {
        if (before.state === null) {
          store.flags.delete(target);
          store.writes++;
        } else {
          store.set(target, (before.state as { enabled: boolean }).enabled);
        }
        store.applied.set(key, read(target));
      }
      return { restored: read(target) };
    },
  };

  return { name: 'flags', description: 'feature flags in the flag service', actions: { set } };
}
