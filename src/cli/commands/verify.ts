import type { Command } from 'commander';
import { verifyStoredLedger } from '../../ledger/reader.js';
import type { ChainVerdict } from '../../ledger/verify.js';
import type { GlobalOptions } from '../context.js';
import { withPool } from '../context.js';
import { CliExit, EXIT } from '../exit.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('check every record of the ledger: sequence, links, hashes and stored copies; exit 1 naming the first bad record')
    .option('--json', 'print the verdict as JSON')
    .option('--deep', 'also re-canonicalise every stored record in Node (slower; proves the hashed bytes are RFC 8785 canonical)')
    .action(async (options: { json?: boolean; deep?: boolean }, command: Command) => {
      const verdicts = await withPool(command.optsWithGlobals<GlobalOptions>(), (pool) => verifyStoredLedger(pool, { deep: options.deep ?? false }));
      const damaged = verdicts.filter((verdict) => !verdict.ok);
      if (options.json) console.log(JSON.stringify({ ok: damaged.length === 0, chains: verdicts.map(toJson) }, null, 2));
      else for (const verdict of verdicts) console.log(describe(verdict));
      if (!verdicts.length && !options.json) console.log('ledger is empty: nothing to verify');
      if (damaged.length) throw new CliExit(EXIT.bad, `ledger damaged: ${damaged.map((v) => `chain ${v.chainId} at record ${v.damage!.seq} (${v.damage!.kind})`).join(', ')}`);
    });
}

function describe(verdict: ChainVerdict): string {
  if (verdict.ok) return `chain ${verdict.chainId}: intact, ${verdict.records} records, head ${verdict.head?.seq ?? 0} ${verdict.head?.hash.toString('hex') ?? ''}`.trimEnd();
  const damage = verdict.damage!;
  return `chain ${verdict.chainId}: DAMAGED at record ${damage.seq}: ${damage.kind}: ${damage.detail} (${verdict.records} records before it verify)`;
}

function toJson(verdict: ChainVerdict) {
  return {
    chain: verdict.chainId,
    ok: verdict.ok,
    records: verdict.records,
    head: verdict.head ? { seq: verdict.head.seq, hash: verdict.head.hash.toString('hex') } : null,
    damage: verdict.damage,
  };
}
