import type { Command } from 'commander';
import { hasCode } from '../../model/errors.js';
import { verifyBundle } from '../../verify/bundle/verify.js';
import type { BundleVerdict } from '../../verify/bundle/verify.js';
import { verifyExport } from '../../verify/bundle/verify-export.js';
import { chainBundleDirs, readBundle } from '../../evidence/bundle/read.js';
import { loadApproverKeys, loadChannelKeys } from './approver-keys.js';
import { loadVerifierKey } from '../../evidence/keys.js';
import { loadTsaCertificate } from '../../evidence/tsa-pinned.js';
import type { VerifierKey } from '../../verify/note.js';
import { CliExit, EXIT } from '../shared/exit.js';

interface VerifyBundleOptions {
  verifierKey?: string;
  approverKeys?: string;
  channelKey?: string;
  tsaCert?: string;
  json?: boolean;
}

export function registerVerifyBundle(program: Command): void {
  program
    .command('verify-bundle')
    .description(
      "check an evidence bundle offline (no database): manifest, checkpoint and statement signatures, every record's hash and chain link, every inclusion proof; exit 1 naming the damaged file and record",
    )
    .argument('<dir>', 'the bundle directory, or an export spanning several chains (a bundle per chain, each checked)')
    .option(
      '--verifier-key <key|file>',
      "the signer's verifier key you pinned, obtained out of band (default: $WRIT_VERIFIER_KEY); without one the bundle is at best internally consistent, its signer unknown (exit 3)",
    )
    .option(
      '--approver-keys <file>',
      'an approver directory file (JSON) whose public keys you pinned: every signed approval, rejection and resolution is checked against them',
    )
    .option(
      '--channel-key <file>',
      "the Writ channel key(s) you pinned (PEM or base64 per line, or a directory's JSON with channels): every decision made through single sign-on or Slack must be asserted by one",
    )
    .option(
      '--tsa-cert <pem|file>',
      "the time-stamp authority's certificate you pinned (default: $WRIT_TSA_CERT): the checkpoint's RFC 3161 token must be signed by it; a bundle without one is then damaged",
    )
    .option('--json', 'print the verdict as JSON')
    .action(verifyBundleAction);
}

async function verifyBundleAction(dir: string, options: VerifyBundleOptions): Promise<void> {
  const key = await pinnedVerifierKey(options.verifierKey ?? process.env.WRIT_VERIFIER_KEY);
  const approverKeys = options.approverKeys === undefined ? undefined : await loadApproverKeys(options.approverKeys);
  const channelKeys = options.channelKey === undefined ? undefined : await loadChannelKeys(options.channelKey);
  const tsaCert = await loadTsaCertificate(options.tsaCert ?? process.env.WRIT_TSA_CERT).catch((error: Error) => {
    throw new CliExit(EXIT.usage, `the TSA certificate is unusable: ${error.message}`);
  });
  const verifyOptions = {
    ...(key ? { verifierKey: key } : {}),
    ...(approverKeys ? { approverKeys } : {}),
    ...(channelKeys ? { channelKeys } : {}),
    ...(tsaCert ? { tsaCert } : {}),
  };
  const perChain = await chainBundleDirs(dir);
  const read = (bundleDir: string) =>
    readBundle(bundleDir).catch((error: unknown) => {
      throw hasCode(error, 'BUNDLE_UNREADABLE') ? new CliExit(EXIT.usage, error.message) : error;
    });
  const { bundles, warnings } = perChain
    ? await verifyExport(perChain, read, verifyOptions)
    : { bundles: [{ dir, verdict: await verifyBundle(await read(dir), verifyOptions) }], warnings: [] };
  // The bundle's own key.pub proves only that whoever made the bundle signed it: a forger
  // signs with a fresh key and ships that. Without a pinned key the answer is never "verified".
  const checked: Checked[] = bundles.map(({ dir: bundleDir, verdict }) => ({
    dir: bundleDir,
    verdict,
    signerUnknown: verdict.ok && verdict.selfKeyed,
  }));
  if (options.json) {
    const verdicts = checked.map((c) => verdictJson(c.verdict, c.signerUnknown, key !== undefined));
    const whole = perChain
      ? {
          ok: verdicts.every((v) => v.ok),
          consistent: verdicts.every((v) => v.consistent),
          warnings,
          bundles: checked.map((c, i) => ({ dir: c.dir, ...verdicts[i] })),
        }
      : verdicts[0];
    console.log(JSON.stringify(whole, null, 2));
  } else {
    for (const warning of warnings) console.error(`warning: ${warning}`);
    for (const c of checked) printVerdict(c.dir, c.verdict, c.signerUnknown);
  }
  const damaged = checked.find((c) => !c.verdict.ok);
  exitOnVerdict(damaged ?? checked.find((c) => c.signerUnknown) ?? checked[0]!, perChain !== null);
}

interface Checked {
  dir: string;
  verdict: BundleVerdict;
  signerUnknown: boolean;
}

async function pinnedVerifierKey(keyText: string | undefined): Promise<VerifierKey | undefined> {
  if (!keyText) return undefined;
  try {
    return await loadVerifierKey(keyText);
  } catch (error) {
    throw new CliExit(EXIT.usage, `the verifier key is unusable: ${(error as Error).message}`);
  }
}

function verdictJson(verdict: BundleVerdict, signerUnknown: boolean, pinned: boolean) {
  return {
    ok: verdict.ok && !signerUnknown,
    consistent: verdict.ok,
    signer: pinned ? 'pinned' : 'unknown',
    findings: verdict.findings,
    warnings: verdict.warnings,
    chain: verdict.chain,
    records: verdict.records,
    operations: verdict.operations,
    checkpointSize: verdict.checkpoint?.size ?? null,
    decisionSignatures: verdict.decisionSignatures,
    identity: verdict.identity,
    notices: verdict.notices,
    timestamps: verdict.timestamps,
    sealed: verdict.sealed,
    export: verdict.export,
  };
}

function printVerdict(dir: string, verdict: BundleVerdict, signerUnknown: boolean): void {
  for (const warning of verdict.warnings) console.error(`warning: ${warning}`);
  for (const notice of verdict.notices) console.log(`notice: record ${notice.seq}: ${notice.problem}`);
  if (signerUnknown) {
    console.log(
      `bundle ${dir}: internally consistent, but its signer is unknown: ${verdict.records} records of chain ${verdict.chain}, ${verdict.operations.length} operation(s), checked only against the bundle's own key.pub`,
    );
    printDecisionSignatures(verdict.decisionSignatures);
  } else if (verdict.ok) {
    console.log(
      `bundle ${dir}: intact, ${verdict.records} records of chain ${verdict.chain}, ${verdict.operations.length} operation(s), every record included in checkpoint ${verdict.checkpoint?.origin}@${verdict.checkpoint?.size}`,
    );
    printDecisionSignatures(verdict.decisionSignatures);
    printIdentity(verdict.identity);
    printTimestamps(verdict);
    printSealed(verdict.sealed);
  } else {
    console.log(`bundle ${dir}: ${onlyExportFindings(verdict) ? 'NOT THE WHOLE EXPORT' : 'DAMAGED'}`);
    for (const f of verdict.findings)
      console.log(`  ${f.file}${f.seq === undefined ? '' : ` record ${f.seq}`}: ${f.problem}`);
  }
}

function printDecisionSignatures(decisions: BundleVerdict['decisionSignatures']): void {
  if (decisions.signed)
    console.log(
      decisions.checked
        ? `${decisions.signed} signed decision(s) verified against the pinned approver keys`
        : `${decisions.signed} signed decision(s): signatures not checked against pinned approver keys`,
    );
}

function printTimestamps({ timestamps, checkpoint }: BundleVerdict): void {
  if (timestamps.checkpointGenTime && timestamps.signaturesChecked)
    console.log(
      `checkpoint ${checkpoint?.size} time-stamped ${timestamps.checkpointGenTime} by the pinned time-stamp authority`,
    );
  else if (timestamps.tokens && !timestamps.signaturesChecked)
    console.log('time-stamp not checked (no TSA certificate pinned)');
}

function printSealed({ values, erased, disclosed }: BundleVerdict['sealed']): void {
  if (values)
    console.log(
      `${values} personal value(s) sealed as commitments: ${erased} erased by export time, ${disclosed} disclosed and checked against their commitments`,
    );
}

function printIdentity(identity: BundleVerdict['identity']): void {
  if (identity.verified) console.log(`${identity.verified} proof(s) of identity re-checked`);
  if (identity.notVerified)
    console.log(`${identity.notVerified} request(s) or decision(s) with identity not verified (asserted)`);
}

/** The bundle is intact; what fails is that its export's other bundles are not all there, or not only they. */
function onlyExportFindings(verdict: BundleVerdict): boolean {
  return verdict.findings.every((f) => f.code === 'EXPORT_INCOMPLETE' || f.code === 'EXPORT_MIXED');
}

function exitOnVerdict({ dir, verdict, signerUnknown }: Checked, several: boolean): void {
  const where = several ? `${dir}: ` : '';
  if (!verdict.ok) {
    const first = verdict.findings[0]!;
    throw new CliExit(
      EXIT.bad,
      `${where}${onlyExportFindings(verdict) ? 'not the whole export' : 'bundle damaged'}: ${first.file}${first.seq === undefined ? '' : ` record ${first.seq}`}: ${first.problem}${verdict.findings.length > 1 ? ` (and ${verdict.findings.length - 1} more)` : ''}`,
    );
  }
  if (signerUnknown) {
    throw new CliExit(
      EXIT.signerUnknown,
      `${where}the bundle is internally consistent but its signer is unknown: pin the log's public key with --verifier-key (or $WRIT_VERIFIER_KEY), obtained from the log's operator out of band, not from the bundle`,
    );
  }
}
