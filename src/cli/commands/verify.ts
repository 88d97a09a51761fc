import type { Command } from 'commander';
import { evidenceConfigFromEnv } from '../../evidence/config.js';
import { verifyLedger } from '../../evidence/ledger-check.js';
import type { LedgerReport } from '../../evidence/ledger-check.js';
import { chainJson, describeChain, describeProjection, ledgerProblems } from '../../evidence/ledger-report.js';
import { loadVerifierKey } from '../../evidence/keys.js';
import { loadTsaCertificate } from '../../evidence/tsa-pinned.js';
import type { VerifierKey } from '../../verify/note.js';
import type { GlobalOptions } from '../shared/context.js';
import { withPool } from '../shared/context.js';
import { CliExit, EXIT } from '../shared/exit.js';
import { terminalProgress } from '../shared/progress.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      'check every record of the ledger (sequence, links, hashes, canonical bytes, stored copies) and the what-happened projection against the records; exit 1 naming the first bad record or each operation whose projection disagrees',
    )
    .option('--json', 'print the verdict as JSON')
    .option(
      '--deep',
      'also ship every stored jsonb copy to Node and compare it there (slower; the plain check already proves the hashed bytes are RFC 8785 canonical)',
    )
    .option(
      '--verifier-key <key|file>',
      'check checkpoint signatures with this signed-note verifier key (default: $WRIT_VERIFIER_KEY)',
    )
    .option(
      '--tsa-cert <pem|file>',
      'check checkpoint time-stamps against this pinned TSA certificate (default: $WRIT_TSA_CERT)',
    )
    .action(async (options: VerifyOptions, command: Command) => {
      const config = evidenceConfigFromEnv();
      const { tsaCert, key } = await pinnedTrust(options, config);
      const progress = terminalProgress('verifying', { quiet: options.json ?? false });
      try {
        const report = await withPool(command.optsWithGlobals<GlobalOptions>(), async (pool) => {
          try {
            return await verifyLedger(pool, {
              origin: config.origin,
              anchors: config.anchors,
              key,
              deep: options.deep ?? false,
              tsaCert,
              ...(progress.update ? { onProgress: progress.update } : {}),
            });
          } catch (error) {
            // undefined_function: writ.operations_disagreements(), the projection check, came with migration 0005.
            if ((error as { code?: string }).code === '42883')
              throw new CliExit(
                EXIT.usage,
                "the ledger's schema predates the projection check (migration 0005): run writ migrate",
              );
            throw error;
          } finally {
            progress.stop();
          }
        });
        print(report, options.json ?? false);
        const problems = ledgerProblems(report);
        if (problems.length) throw new CliExit(EXIT.bad, `ledger damaged: ${problems.join('; ')}`);
      } finally {
        for (const sink of config.anchors) await sink.close?.();
      }
    });
}

/** The TSA certificate and verifier key that checkpoints are checked against; unusable ones exit 2. */
async function pinnedTrust(
  options: VerifyOptions,
  config: ReturnType<typeof evidenceConfigFromEnv>,
): Promise<{ tsaCert: Awaited<ReturnType<typeof loadTsaCertificate>>; key: VerifierKey | null }> {
  const tsaCert = await loadTsaCertificate(options.tsaCert ?? config.tsaCert).catch((error: Error) => {
    throw new CliExit(EXIT.usage, `the TSA certificate is unusable: ${error.message}`);
  });
  const keyText = options.verifierKey ?? config.verifierKey;
  try {
    return { tsaCert, key: keyText ? await loadVerifierKey(keyText) : null };
  } catch (error) {
    throw new CliExit(EXIT.usage, `the verifier key is unusable: ${(error as Error).message}`);
  }
}

interface VerifyOptions {
  json?: boolean;
  deep?: boolean;
  verifierKey?: string;
  tsaCert?: string;
}

function print(report: LedgerReport, json: boolean): void {
  if (json) {
    console.log(
      JSON.stringify(
        {
          ok: report.ok,
          chains: report.chains.map(chainJson),
          projection: report.projection,
          findings: report.findings,
        },
        null,
        2,
      ),
    );
    return;
  }
  for (const result of report.chains) console.log(describeChain(result));
  console.log(describeProjection(report.projection!));
  if (!report.chains.length) console.log('ledger is empty: nothing to verify');
}
