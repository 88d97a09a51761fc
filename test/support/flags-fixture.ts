import { randomUUID } from 'node:crypto';
import type { ConformanceFixture } from '../../src/connectors/conformance/index.js';
import type { FlagStore } from '../../examples/feature-flags/connector.js';

/** A fresh flag, switched off, read straight from the store (not through the connector). */
export async function flagFixture(store: FlagStore): Promise<ConformanceFixture> {
  const flag = `checkout-${randomUUID().slice(0, 8)}`;
  store.flags.set(flag, false);
  const writesBefore = store.writes;
  return {
    target: flag,
    params: { enabled: true },
    readActual: async () => (store.flags.has(flag) ? { enabled: store.flags.get(flag)! } : null),
    drift: async () => void store.flags.set(flag, false),
    // The service flips what it is sent for this flag, as a service with rules of its own might.
    tamper: async () => {
      store.rewrite = (name, enabled) => (name === flag ? !enabled : enabled);
      return async () => void (store.rewrite = undefined);
    },
    effects: async () => store.writes - writesBefore,
  };
}
