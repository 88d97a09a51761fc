import { randomUUID } from 'node:crypto';
import { runConformance } from '../../src/connectors/conformance/index.js';
import { FlagStore, featureFlagsConnector } from '../../examples/feature-flags/connector.js';

// The worked example of docs/CONNECTORS.md passes the same kit as the built-ins.
const store = new FlagStore();

runConformance({
  name: 'flags',
  connector: () => featureFlagsConnector(store),
  action: 'set',
  badParams: [{ params: { enabled: 'yes' }, field: 'enabled' }, { params: { enabled: true, ttl: 5 }, field: 'ttl' }],
  fixture: async () => {
    const flag = `checkout-${randomUUID().slice(0, 8)}`;
    store.flags.set(flag, false);
    const writesBefore = store.writes;
    return {
      target: flag,
      params: { enabled: true },
      readActual: async () => (store.flags.has(flag) ? { enabled: store.flags.get(flag)! } : null),
      drift: async () => void store.flags.set(flag, false),
      effects: async () => store.writes - writesBefore,
    };
  },
});
