/**
 * `npm run bench -- <name>`: performance lives here, never in timed tests. Every figure is also
 * given as a ratio to a baseline measured in the same run, because these machines are noisy.
 * The last line printed is one JSON object with the figures.
 */
import { benchLedger } from './ledger.js';
import { benchWorkflow } from './workflow.js';

const BENCHES: Record<string, () => Promise<Record<string, number>>> = {
  ledger: () => benchLedger(),
  workflow: () => benchWorkflow(),
};

const requested = process.argv.slice(2);
const names = requested.length ? requested : Object.keys(BENCHES);
const unknown = names.filter((name) => !BENCHES[name]);
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
for (const name of names) {
  const figures = await BENCHES[name]!();
  console.log(JSON.stringify({ bench: name, ...figures }));
}
