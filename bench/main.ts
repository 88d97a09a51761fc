/**
 * `npm run bench -- <name> [options]`: performance lives here, never in timed tests. Every figure
 * is also given as a ratio to a baseline measured in the same run, because these machines are
 * noisy. The last line printed is one JSON object with the figures.
 *
 * Options (used by the benchmarks that size a fixture): --records <n>, --rebuild.
 */
import { parseArgs } from 'node:util';
import { benchChains } from './chains.js';
import { benchEvidence } from './evidence/index.js';
import { benchProofChecks } from './evidence/proof-checks.js';
import { benchLedger, draft } from './ledger.js';
import { benchVerifyOnly } from './ledger-verify.js';
import { benchWorkerMemory, benchWorkflow, benchWorkflowLatency } from './workflow/index.js';

interface BenchOptions {
  records?: number;
  rebuild: boolean;
  /** evidence: build the fixture with personal values sealed. */
  sealed: boolean;
}

const BENCHES: Record<string, (options: BenchOptions) => Promise<Record<string, number>>> = {
  ledger: () => benchLedger(),
  'ledger-p1': () => benchLedger({ p1Only: true }),
  'ledger-p2': () => benchVerifyOnly(draft),
  chains: (options) => benchChains(options),
  workflow: () => benchWorkflow(),
  'workflow-p4': () => benchWorkflowLatency(),
  'workflow-p6': () => benchWorkerMemory(),
  evidence: (options) => benchEvidence(options),
  'evidence-proofs': () => benchProofChecks(),
};

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      records: { type: 'string' },
      rebuild: { type: 'boolean', default: false },
      sealed: { type: 'boolean', default: false },
    },
  });
} catch (error) {
  console.error(
    `${(error as Error).message}\nusage: npm run bench -- [${Object.keys(BENCHES).join('|')}] [--records <n>] [--rebuild] [--sealed]`,
  );
  process.exit(2);
}
const records = parsed.values.records === undefined ? undefined : Number(parsed.values.records);
if (records !== undefined && !(Number.isSafeInteger(records) && records >= 1000)) {
  console.error(`--records must be a whole number of at least 1000, not ${parsed.values.records}`);
  process.exit(2);
}
// A name with a dash runs one part of another benchmark: not part of a full run.
const names = parsed.positionals.length
  ? parsed.positionals
  : Object.keys(BENCHES).filter((name) => !name.includes('-'));
const unknown = names.filter((name) => !BENCHES[name]);
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
for (const name of names) {
  const figures = await BENCHES[name]!({
    ...(records === undefined ? {} : { records }),
    rebuild: parsed.values.rebuild ?? false,
    sealed: parsed.values.sealed ?? false,
  });
  console.log(JSON.stringify({ bench: name, ...figures }));
}
