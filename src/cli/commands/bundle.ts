import { join } from 'node:path';
import { unusableOut, writeBundleInPlace, writeBundlesInPlace } from '../../evidence/bundle/write.js';
import type { Command } from 'commander';
import { evidenceConfigFromEnv } from '../../evidence/config.js';
import { exportBundles } from '../../evidence/bundle/export.js';
import { hasCode } from '../../model/errors.js';
import type { BundleSelection, ExportedBundle } from '../../evidence/bundle/export.js';
import type { EvidenceConfig } from '../../evidence/config.js';
import type pg from 'pg';
import { loadSigner } from '../../evidence/keys.js';
import type { NoteSigner } from '../../verify/note.js';
import type { GlobalOptions } from '../shared/context.js';
import { createPool } from '../../db/pool.js';
import { withPool } from '../shared/context.js';
import { CliExit, EXIT } from '../shared/exit.js';
import { terminalProgress } from '../shared/progress.js';
import type { OcsfExportOptions } from './ocsf-export.js';
import { addOcsfOptions, exportFormatOf, ocsfExportAction } from './ocsf-export.js';
import { registerVerifyBundle } from './verify-bundle.js';

type Signer = NoteSigner & { verifierKey: string };

export function registerBundleCommands(program: Command): void {
  registerExport(program);
  registerVerifyBundle(program);
}

interface ExportOptions extends OcsfExportOptions {
  out?: string;
  disclose?: string[];
  from?: string;
  to?: string;
}

function registerExport(program: Command): void {
  const command = program
    .command('export')
    .description(
      'write an evidence bundle an auditor verifies offline: records, inclusion proofs, the covering signed checkpoint, signed statements and a signed manifest; or, with --format ocsf, OCSF events for a SIEM',
    )
    .argument('[id]', 'an operation id or a correlation id (trace id)')
    .option('--out <dir>', 'directory to write the bundle to (created; must be empty); with --format ocsf, a new file')
    .option('--from <iso>', 'with --to: every operation whose first record occurred at or after this time')
    .option('--to <iso>', 'with --from: ... and before this time')
    .option(
      '--disclose <commitment>',
      'put this sealed personal value, with its salt, in the bundle (sealed.json) so an auditor can check it against the commitment its record holds; repeatable',
      (value: string, all: string[] = []) => [...all, value],
    );
  addOcsfOptions(command).action(exportAction);
}

async function exportAction(id: string | undefined, options: ExportOptions, command: Command): Promise<void> {
  const format = exportFormatOf(options);
  const selection = selectionFrom(id, options);
  if (format === 'ocsf') return ocsfExportAction(selection, options, command);
  if (options.out === undefined) throw new CliExit(EXIT.usage, 'a bundle needs --out <dir>');
  const disclose = options.disclose ?? [];
  const malformed = disclose.filter((commitment) => !/^[0-9a-f]{64}$/.test(commitment));
  if (malformed.length)
    throw new CliExit(EXIT.usage, `--disclose takes a commitment (64 lower-case hex digits): ${malformed.join(', ')}`);
  await exportBundleAction(selection, options.out, command, disclose);
}

async function exportBundleAction(
  selection: BundleSelection,
  out: string,
  command: Command,
  disclose: string[],
): Promise<void> {
  const config = evidenceConfigFromEnv();
  const signer = await bundleSigner(config);
  await ensureUsableOut(out);
  try {
    const bundles = await withPool(command.optsWithGlobals<GlobalOptions>(), (pool) =>
      exportFrom(pool, selection, config, signer, disclose),
    );
    const written =
      bundles.length === 1
        ? writeBundleInPlace(out, bundles[0]!.files)
        : writeBundlesInPlace(out, new Map(bundles.map((bundle) => [bundle.chain, bundle.files])));
    await written.catch((error: Error) => {
      throw new CliExit(
        EXIT.usage,
        `could not write the bundle to ${out}, so nothing was left there: ${error.message}`,
      );
    });
    for (const bundle of bundles) reportWritten(bundles.length === 1 ? out : join(out, bundle.chain), bundle);
    if (bundles.length > 1)
      console.log(
        `the records are on ${bundles.length} chains, so ${out} holds one bundle per chain, all one export: hand them over together (writ verify-bundle ${out} checks them all; one alone is not the whole export)`,
      );
    console.log(`check it with: writ verify-bundle ${out} --verifier-key '${signer.verifierKey}'`);
  } finally {
    for (const sink of config.anchors) await sink.close?.();
  }
}

function reportWritten(dir: string, bundle: ExportedBundle): void {
  if (bundle.unstamped) console.error(`warning: ${bundle.unstamped}`);
  if (bundle.wroteCheckpoint)
    console.error(
      `signed a new checkpoint of chain ${bundle.chain} at ${bundle.checkpointSize} records to cover the export`,
    );
  console.log(
    `wrote ${dir}: ${bundle.records} records of ${bundle.operations.length} operation(s), chain ${bundle.chain}, checkpoint at ${bundle.checkpointSize}`,
  );
}

async function bundleSigner(config: EvidenceConfig): Promise<Signer> {
  if (!config.signingKeyPath)
    throw new CliExit(
      EXIT.usage,
      "no signing key: a bundle's manifest and statements are signed. Make a key with `writ keygen --out <dir>` and set WRIT_SIGNING_KEY to its .key file (and WRIT_KEY_NAME to its name)",
    );
  return loadSigner(config.signingKeyPath, config.keyName).catch((error: Error) => {
    throw new CliExit(EXIT.usage, error.message);
  });
}

/** Exports through the checkpointer's own login when one is configured, to sign a covering checkpoint. */
async function exportFrom(
  pool: pg.Pool,
  selection: BundleSelection,
  config: EvidenceConfig,
  signer: Signer,
  disclose: string[],
): Promise<ExportedBundle[]> {
  const bar = terminalProgress('proving records');
  const progress = bar.update;
  try {
    const checkpointPool = config.checkpointDatabaseUrl
      ? createPool(config.checkpointDatabaseUrl, { max: 1, applicationName: 'writ-checkpointer' })
      : undefined;
    try {
      return await exportBundles(pool, selection, {
        signer,
        origin: config.origin,
        anchors: config.anchors,
        ...(config.tsa ? { tsa: config.tsa } : {}),
        ...(progress ? { progress } : {}),
        ...(checkpointPool ? { checkpointPool } : {}),
        disclose,
      });
    } finally {
      await checkpointPool?.end();
    }
  } catch (error) {
    if (hasCode(error, 'BUNDLE_SELECTION')) throw new CliExit(EXIT.usage, error.message);
    throw error;
  } finally {
    bar.stop();
  }
}

function selectionFrom(id: string | undefined, options: { from?: string; to?: string }): BundleSelection {
  const window = options.from !== undefined || options.to !== undefined;
  if (id !== undefined && window)
    throw new CliExit(EXIT.usage, 'give an operation or correlation id, or --from and --to, not both');
  if (id !== undefined) return { id };
  if (options.from === undefined || options.to === undefined)
    throw new CliExit(EXIT.usage, 'give an operation or correlation id, or both --from <iso> and --to <iso>');
  const from = new Date(options.from);
  const to = new Date(options.to);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
    throw new CliExit(EXIT.usage, '--from and --to are ISO 8601 times, e.g. 2026-03-12T00:00:00Z');
  if (from >= to) throw new CliExit(EXIT.usage, '--from must be before --to');
  return { from, to };
}

/** Checked before the export runs; the directory itself is made only with a whole bundle in it. */
async function ensureUsableOut(out: string): Promise<void> {
  const problem = await unusableOut(out);
  if (problem) throw new CliExit(EXIT.usage, problem);
}
