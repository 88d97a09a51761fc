import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../../verify/hash.js';
import type pg from 'pg';
import type { AnchorSink } from '../anchors.js';
import type { Checkpoint } from '../../verify/checkpoint.js';
import { parseCheckpoint } from '../../verify/checkpoint.js';
import { preflightAnchors } from '../anchor-preflight.js';
import { originFor, writeCheckpoint } from '../checkpointer.js';
import { signNote } from '../../verify/note.js';
import type { NoteSigner } from '../../verify/note.js';
import type { ExportMembership, Manifest } from '../../verify/bundle/format.js';
import {
  BUNDLE_FORMAT,
  MANIFEST,
  MANIFEST_SIG,
  PROOFS,
  README,
  SEALED,
  TIMESTAMPS,
  manifestNoteText,
} from '../../verify/bundle/format.js';
import { newestCheckpoint } from '../store.js';
import { buildProofs, proofsFileBytes } from './proofs.js';
import { bundleFiles } from './bundle-files.js';
import { bundleReadme } from './readme.js';
import { sealedFile } from './sealed-file.js';
import type { BundleRecord, BundleSelection } from './select.js';
import { BundleSelectionError, selectByChain, selectOneChain } from './select.js';
import { sealedPlaces } from '../../verify/sealed.js';
import { stampAndCollect } from './timestamps.js';

export { recordsCsv } from './csv.js';
export type { BundleRecord, BundleSelection } from './select.js';
export { BundleSelectionError, selectRecords } from './select.js';

export interface ExportOptions {
  signer: NoteSigner & { verifierKey: string };
  origin: string;
  anchors: AnchorSink[];
  /** Called as proofs are built: (done, total). */
  progress?: (done: number, total: number) => void;
  now?: Date;
  /** Where a covering checkpoint is written when none exists (a writ_checkpointer login); default: `pool`. */
  checkpointPool?: pg.Pool;
  /** Commitments whose values (with their salts) the bundle discloses. */
  disclose?: readonly string[];
  /** The RFC 3161 authority that stamps the covering checkpoint when it has no token (WRIT_TSA_URL). */
  tsa?: { url: string };
}

export interface ExportedBundle {
  /** File name to bytes, every file of the bundle. */
  files: Map<string, Buffer>;
  chain: string;
  records: number;
  operations: string[];
  checkpointSize: number;
  /** True when this export had to sign a new checkpoint. */
  wroteCheckpoint: boolean;
  /** Why the configured time-stamp authority did not stamp the covering checkpoint; the export stands. */
  unstamped?: string;
}

/** The signed checkpoint a bundle's proofs lead to: its note as signed, and what the note says. */
interface CoveringCheckpoint {
  note: string;
  checkpoint: Checkpoint;
  wroteCheckpoint: boolean;
}

/**
 * Builds every file of a bundle for the selected records, after making sure a signed checkpoint
 * covers all of them (signing and anchoring a new one when the newest is too small). The records
 * must all be on one chain (a BundleSelectionError says which chains they are on otherwise).
 */
export async function exportBundle(
  pool: pg.Pool,
  selection: BundleSelection,
  options: ExportOptions,
): Promise<ExportedBundle> {
  const records = await selectOneChain(pool, selection);
  return bundleOfChain(pool, records, options, options.disclose ?? [], newExport([records]));
}

/**
 * One bundle per chain the selected records are on, each complete and checked on its own: a
 * correlation id whose operations were spread over several chains, or a window of time, is still
 * exported whole. A disclosure goes to the bundle of the chain whose record holds it.
 */
export async function exportBundles(
  pool: pg.Pool,
  selection: BundleSelection,
  options: ExportOptions,
): Promise<ExportedBundle[]> {
  const byChain = await selectByChain(pool, selection);
  const disclose = options.disclose ?? [];
  const bundles: ExportedBundle[] = [];
  const disclosures = disclosuresByChain(byChain, disclose);
  const membership = newExport(byChain);
  for (const [i, records] of byChain.entries())
    bundles.push(await bundleOfChain(pool, records, options, disclosures[i]!, membership));
  return bundles;
}

/** Signed into every bundle's manifest, so that the bundles of one export are handed over together or found out. */
function newExport(byChain: ReadonlyArray<readonly BundleRecord[]>): ExportMembership {
  return { id: randomBytes(16).toString('hex'), chains: byChain.map((records) => records[0]!.chain).sort() };
}

/**
 * What each chain's bundle is asked to disclose. One chain takes every disclosure, and sealedFile
 * refuses one its records do not hold; the payloads are walked here only when several chains
 * share the asking, since the walk is a large trace's cost to pay once, not twice.
 */
function disclosuresByChain(byChain: readonly BundleRecord[][], disclose: readonly string[]): string[][] {
  if (byChain.length === 1 || !disclose.length) return byChain.map(() => [...disclose]);
  const held = byChain.map((records) => heldCommitments(records));
  const unheld = disclose.filter((commitment) => !held.some((commitments) => commitments.has(commitment)));
  if (unheld.length)
    throw new BundleSelectionError(`cannot disclose ${unheld.join(', ')}: no selected record holds that commitment`);
  return held.map((commitments) => disclose.filter((commitment) => commitments.has(commitment)));
}

function heldCommitments(records: readonly BundleRecord[]): Set<string> {
  return new Set(records.flatMap((r) => sealedPlaces(r.record.payload).map((place) => place.commitment)));
}

async function bundleOfChain(
  pool: pg.Pool,
  records: BundleRecord[],
  options: ExportOptions,
  disclose: readonly string[],
  membership: ExportMembership,
): Promise<ExportedBundle> {
  // Before anything is written: a disclosure that cannot be made refuses the export.
  const sealed = await sealedFile(pool, records, disclose);
  const chain = records[0]!.chain;
  const covering = await coveringCheckpoint(pool, chain, records[records.length - 1]!.seq, options);
  const { checkpoint, wroteCheckpoint } = covering;
  const operations = [
    ...new Set(records.map((r) => r.record.operationId).filter((id): id is string => typeof id === 'string')),
  ];
  const stamping = await stampAndCollect(pool, { chain, ...checkpoint, note: covering.note }, options);
  // The stored Merkle nodes are read while the other files are built, in turns: alone, each waited
  // for the other (BENCHMARKS.md, P5).
  const [proofs, files] = settledBoth(
    await Promise.allSettled([
      buildProofs(pool, chain, records, checkpoint.size, checkpoint.root, options.progress),
      bundleFiles(chain, records, operations, covering, options.signer),
    ]),
  );
  const treeSize = checkpoint.size;
  files.set(PROOFS, proofsFileBytes({ chain, treeSize, root: checkpoint.root.toString('base64'), ...proofs }));
  const readme = bundleReadme({
    chain,
    origin: checkpoint.origin,
    treeSize,
    records: records.length,
    operations,
    verifierKey: options.signer.verifierKey,
    timestamped: stamping.bytes !== null,
    exportChains: membership.chains,
  });
  files.set(README, Buffer.from(readme, 'utf8'));
  if (stamping.bytes) files.set(TIMESTAMPS, stamping.bytes);
  if (sealed) files.set(SEALED, sealed);
  addSignedManifest(files, { chain, origin: checkpoint.origin, export: membership }, options);
  return {
    files,
    chain,
    records: records.length,
    operations,
    checkpointSize: checkpoint.size,
    wroteCheckpoint,
    ...(stamping.warning ? { unstamped: stamping.warning } : {}),
  };
}

/** The newest checkpoint of the chain if it covers `maxSeq`, else a new one signed (and anchored) now. */
async function coveringCheckpoint(
  pool: pg.Pool,
  chain: string,
  maxSeq: number,
  options: ExportOptions,
): Promise<CoveringCheckpoint> {
  let wroteCheckpoint = false;
  let note = await newestCheckpoint(pool, chain);
  if (!note || note.size < maxSeq) {
    // As at the worker's start: an anchor that would not keep the checkpoint stops the export first.
    await preflightAnchors(options.anchors);
    await writeCheckpoint(options.checkpointPool ?? pool, chain, {
      signer: options.signer,
      origin: options.origin,
      anchors: options.anchors,
    });
    wroteCheckpoint = true;
    note = await newestCheckpoint(pool, chain);
    if (!note || note.size < maxSeq)
      throw new Error(`could not write a checkpoint of chain ${chain} covering record ${maxSeq}`);
  }
  const checkpoint = parseCheckpoint(note.note).checkpoint;
  if (checkpoint.origin !== originFor(options.origin, chain))
    throw new Error(
      `the newest checkpoint of chain ${chain} is from ${checkpoint.origin}, not ${originFor(options.origin, chain)}: check WRIT_LOG_ORIGIN`,
    );
  return { note: note.note, checkpoint, wroteCheckpoint };
}

/** Both values, once both have settled: neither is left running behind the caller's back. */
function settledBoth<A, B>(settled: [PromiseSettledResult<A>, PromiseSettledResult<B>]): [A, B] {
  const [a, b] = settled;
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return [a.value, b.value];
}

/** The manifest names every file by its SHA-256; its signature makes the set of files the signed evidence. */
function addSignedManifest(
  files: Map<string, Buffer>,
  about: { chain: string; origin: string; export: ExportMembership },
  options: ExportOptions,
): void {
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    chain: about.chain,
    origin: about.origin,
    createdAt: (options.now ?? new Date()).toISOString(),
    files: [...files.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, bytes]) => ({ name, sha256: sha256Hex(bytes), size: bytes.length })),
    export: about.export,
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`, 'utf8');
  files.set(MANIFEST, manifestBytes);
  files.set(MANIFEST_SIG, Buffer.from(signNote(manifestNoteText(manifestBytes), options.signer), 'utf8'));
}
