import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { evidenceConfigFromEnv } from '../../evidence/config.js';
import { loadVerifierKey } from '../../evidence/keys.js';
import type { ComplianceReport } from '../../report/build.js';
import { EmptyWindowError, buildReport } from '../../report/build.js';
import type { LinkSettings } from '../../report/links.js';
import { loadProfile } from '../../report/profile.js';
import { renderCsv } from '../../report/render-csv.js';
import { renderHtml } from '../../report/render-html.js';
import { renderJson } from '../../report/render-json.js';
import { renderText } from '../../report/render-text.js';
import { parseTtl, serveConfigFromEnv } from '../../serve/config.js';
import type { VerifierKey } from '../../verify/note.js';
import type { GlobalOptions } from '../shared/context.js';
import { withPool } from '../shared/context.js';
import { terminalProgress } from '../shared/progress.js';
import { CliExit, EXIT } from '../shared/exit.js';

interface ReportFlags {
  profile: string;
  from: string;
  to: string;
  json?: boolean;
  csv?: boolean;
  html?: boolean;
  out?: string;
  verifierKey?: string;
  linksFor?: string;
  linksTtl?: string;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'a compliance report from the ledger (read-only): every change in the window, its approvals and outcome, the exceptions a control cares about, and whether the ledger proves the population complete; exit 1 when the chain is broken or the window holds no records',
    )
    .requiredOption('--profile <name|file>', 'soc2, sox, iso27001, pci, or the path of a profile file (JSON)')
    .requiredOption('--from <iso>', 'operations whose first record occurred at or after this time')
    .requiredOption('--to <iso>', '... and before this time')
    .option('--json', 'the whole report as JSON')
    .option('--csv', 'the population as CSV, one row per operation')
    .option('--html', 'a self-contained page: summary, controls, chart, completeness, exceptions, population')
    .option('--out <file>', 'write the report to this file (default: standard output)')
    .option(
      '--verifier-key <key|file>',
      'check checkpoint signatures with this signed-note verifier key (default: $WRIT_VERIFIER_KEY)',
    )
    .option(
      '--links-for <requester>',
      'with WRIT_PUBLIC_URL and WRIT_LINK_SECRET: signed timeline links made for this person (each use is recorded under that name)',
    )
    .option('--links-ttl <duration>', 'how long the signed links stay valid (default 7d, at most 90d)')
    .action(reportAction);
}

async function reportAction(flags: ReportFlags, command: Command): Promise<void> {
  const window = windowFrom(flags.from, flags.to);
  const format = formatOf(flags);
  const profile = await loadProfile(flags.profile);
  const config = evidenceConfigFromEnv();
  const key = await verifierKey(flags.verifierKey ?? config.verifierKey);
  const links = linkSettings(flags);
  let report: ComplianceReport;
  const progress = terminalProgress('verifying the ledger', { quiet: format === 'json' && !flags.out });
  const onProgress = progress.update;
  const ledger = { origin: config.origin, anchors: config.anchors, key, ...(onProgress ? { onProgress } : {}) };
  try {
    report = await withPool(command.optsWithGlobals<GlobalOptions>(), (pool) =>
      buildReport(pool, { profile, window, links, ledger }),
    );
  } catch (error) {
    if (error instanceof EmptyWindowError) throw new CliExit(EXIT.bad, error.message);
    throw error;
  } finally {
    progress.stop();
    for (const sink of config.anchors) await sink.close?.();
  }
  const text = { json: renderJson, csv: renderCsv, html: renderHtml, text: renderText }[format](report);
  if (flags.out) {
    await writeFile(flags.out, text);
    console.error(
      `wrote ${flags.out}: ${report.population.length} operation(s), ${report.exceptions.length} exception(s)`,
    );
  } else process.stdout.write(text);
  if (!report.completeness.ok)
    throw new CliExit(
      EXIT.bad,
      `the ledger is broken: the report cannot show that the population is complete (${report.completeness.chains
        .flatMap((c) => c.damage)
        .slice(0, 3)
        .join('; ')})`,
    );
}

function windowFrom(fromText: string, toText: string): { from: Date; to: Date } {
  const from = new Date(fromText);
  const to = new Date(toText);
  if (Number.isNaN(from.getTime())) throw new CliExit(EXIT.usage, `--from is not an ISO 8601 time: "${fromText}"`);
  if (Number.isNaN(to.getTime())) throw new CliExit(EXIT.usage, `--to is not an ISO 8601 time: "${toText}"`);
  if (from >= to)
    throw new CliExit(EXIT.usage, `--from (${from.toISOString()}) must be before --to (${to.toISOString()})`);
  return { from, to };
}

function formatOf(flags: ReportFlags): 'json' | 'csv' | 'html' | 'text' {
  const chosen = (['json', 'csv', 'html'] as const).filter((f) => flags[f]);
  if (chosen.length > 1)
    throw new CliExit(EXIT.usage, `choose one of --json, --csv and --html, not ${chosen.join(' and ')}`);
  return chosen[0] ?? 'text';
}

async function verifierKey(text: string | undefined): Promise<VerifierKey | null> {
  if (!text) return null;
  try {
    return await loadVerifierKey(text);
  } catch (error) {
    throw new CliExit(EXIT.usage, `the verifier key is unusable: ${(error as Error).message}`);
  }
}

/** Signed links only when asked for: a link is a bearer credential, and each use is recorded under its requester. */
function linkSettings(flags: ReportFlags): LinkSettings | null {
  if (flags.linksFor === undefined) return null;
  const serve = serveConfigFromEnv();
  if (!serve.publicUrl || !serve.linkSecret)
    throw new CliExit(
      EXIT.usage,
      '--links-for needs WRIT_PUBLIC_URL (where writ serve is reached) and WRIT_LINK_SECRET (the secret writ serve checks links with)',
    );
  const ttl = parseTtl(flags.linksTtl ?? '7d', '--links-ttl');
  return {
    baseUrl: serve.publicUrl,
    secret: serve.linkSecret,
    requester: flags.linksFor,
    expires: Math.floor(Date.now() / 1000) + ttl,
  };
}
