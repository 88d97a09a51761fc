import { runConformance } from '../../src/connectors/conformance/index.js';
import { FlagStore, featureFlagsConnector } from '../../examples/feature-flags/connector.js';
import { flagFixture } from '../support/flags-fixture.js';

// The worked example of docs/CONNECTORS.md passes the same kit as the built-ins.
const store = new FlagStore();

runConformance({
  name: 'flags',
  connector: () => featureFlagsConnector(store),
  action: 'set',
  badParams: [
    { params: { enabled: 'yes' }, field: 'enabled' },
    { params: { enabled: true, ttl: 5 }, field: 'ttl' },
  ],
  fixture: () => flagFixture(store),
});
