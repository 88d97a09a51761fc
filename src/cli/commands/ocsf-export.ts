import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { BundleSelection } from '../../evidence/bundle/export.js';
import { exportOcsf } from '../../evidence/ocsf/export.js';
import { OCSF_SCHEMA_VERSION } from '../../evidence/ocsf/vocabulary.js';
import { hasCode } from '../../model/errors.js';
import type { GlobalOptions } from '../shared/context.js';
import { withPool } from '../shared/context.js';
import { CliExit, EXIT } from '../shared/exit.js';

/** `writ export --format ocsf`: the OCSF options of `writ export` and their action (docs/FORMAT.md section 19). */

export const EXPORT_FORMATS = ['bundle', 'ocsf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface OcsfExportOptions {
  out?: string;
  format?: string;
  accountTarget?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addOcsfOptions(command: Command): Command {
  return command
    .option(
      '--format <format>',
      `bundle (an evidence bundle, the default) or ocsf (OCSF ${OCSF_SCHEMA_VERSION} JSON lines: one event per decision and step record, to --out <file> or stdout)`,
      'bundle',
    )
    .option(
      '--account-target <glob>',
      'ocsf: steps whose identity (connector:target, e.g. postgres:public.users/*) matches are exported as Account Change events (repeatable; default: $WRIT_OCSF_ACCOUNT_TARGETS, comma-separated)',
      collect,
    );
}

export function exportFormatOf(options: OcsfExportOptions): ExportFormat {
  const format = options.format ?? 'bundle';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    throw new CliExit(EXIT.usage, `unknown --format ${JSON.stringify(format)}: use bundle or ocsf`);
  if (format === 'bundle' && options.accountTarget?.length)
    throw new CliExit(EXIT.usage, '--account-target applies to --format ocsf only');
  return format as ExportFormat;
}

function accountTargets(options: OcsfExportOptions): string[] {
  const given = options.accountTarget ?? (process.env.WRIT_OCSF_ACCOUNT_TARGETS ?? '').split(',');
  const patterns = given.map((pattern) => pattern.trim()).filter(Boolean);
  if (options.accountTarget?.some((pattern) => !pattern.trim()))
    throw new CliExit(EXIT.usage, '--account-target needs a pattern, e.g. postgres:public.users/*');
  return patterns;
}

async function writVersion(): Promise<string> {
  try {
    const text = await readFile(new URL('../../../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Everything is read and mapped before anything is written, so a failed export writes nothing. */
export async function ocsfExportAction(
  selection: BundleSelection,
  options: OcsfExportOptions,
  command: Command,
): Promise<void> {
  const eventOptions = { productVersion: await writVersion(), accountTargets: accountTargets(options) };
  const exported = await withPool(command.optsWithGlobals<GlobalOptions>(), (pool) =>
    exportOcsf(pool, selection, eventOptions),
  ).catch((error: unknown) => {
    throw hasCode(error, 'BUNDLE_SELECTION') ? new CliExit(EXIT.usage, error.message) : error;
  });
  const body = exported.lines.map((line) => `${line}\n`).join('');
  const summary = `${exported.lines.length} OCSF ${OCSF_SCHEMA_VERSION} event(s) (${exported.accountChanges} Account Change) from ${exported.records} records of ${exported.operations} operation(s)`;
  if (options.out === undefined) {
    process.stdout.write(body);
    console.error(summary);
    return;
  }
  await writeFile(options.out, body, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    throw new CliExit(
      EXIT.usage,
      error.code === 'EEXIST'
        ? `${options.out} exists: an OCSF export is written to a new file`
        : `cannot write ${options.out}: ${error.message}`,
    );
  });
  console.log(`wrote ${options.out}: ${summary}`);
}
