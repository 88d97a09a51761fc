import { sha256Hex } from '../hash.js';
import { verifyNote } from '../note.js';
import type { NoteFailure, VerifierKey } from '../note.js';
import type { BundleFindingCode } from './findings.js';
import type { Manifest } from './format.js';
import {
  BUNDLE_FORMATS,
  CHECKPOINT,
  EXPORT_ID,
  KEY_PUB,
  MANIFEST,
  MANIFEST_SIG,
  PROOFS,
  RECORDS_JSONL,
  manifestNoteText,
} from './format.js';
import { HEX32, isObject, parseJson } from './parse.js';

/** How a bundle check reports a finding about any file of the bundle. */
export type Bad = (file: string, code: BundleFindingCode, problem: string, seq?: number) => void;

const MANIFEST_SIGNATURE: Record<NoteFailure, BundleFindingCode> = {
  MALFORMED: 'MANIFEST_SIGNATURE_MALFORMED',
  UNKNOWN_KEY: 'MANIFEST_UNKNOWN_KEY',
  BAD_SIGNATURE: 'MANIFEST_SIGNATURE_INVALID',
};

/** The manifest, its signature, and every file it lists; null when there is no manifest to go by. */
export function checkManifest(
  read: (name: string) => Buffer | null,
  files: ReadonlyMap<string, Uint8Array>,
  key: VerifierKey | null,
  bad: Bad,
): Manifest | null {
  const manifestBytes = read(MANIFEST);
  const sigBytes = read(MANIFEST_SIG);
  if (manifestBytes && sigBytes && key) checkManifestSignature(manifestBytes, sigBytes, key, bad);
  if (!manifestBytes) return null;
  const manifest = parseManifest(manifestBytes, (problem) => bad(MANIFEST, 'MANIFEST_INVALID', problem));
  if (manifest) checkListedFiles(manifest, files, bad);
  return manifest;
}

/** manifest.sig is a signed note over the manifest's digest. */
function checkManifestSignature(manifest: Buffer, signature: Buffer, key: VerifierKey, bad: Bad): void {
  const verdict = verifyNote(signature, key);
  if (!verdict.ok) bad(MANIFEST_SIG, MANIFEST_SIGNATURE[verdict.code], `${verdict.code}: ${verdict.reason}`);
  else if (verdict.note.text !== manifestNoteText(manifest))
    bad(
      MANIFEST,
      'MANIFEST_DIGEST_MISMATCH',
      `its SHA-256 ${sha256Hex(manifest)} is not the one ${MANIFEST_SIG} signs`,
    );
}

/** Every file the manifest lists is there with its digest, and nothing else is. */
function checkListedFiles(manifest: Manifest, files: ReadonlyMap<string, Uint8Array>, bad: Bad): void {
  const listed = new Set<string>();
  for (const entry of manifest.files) {
    listed.add(entry.name);
    const data = files.get(entry.name);
    if (data === undefined) bad(entry.name, 'FILE_MISSING', 'listed in the manifest but missing');
    else if (data.length !== entry.size || sha256Hex(data) !== entry.sha256)
      bad(
        entry.name,
        'FILE_DIGEST_MISMATCH',
        `its SHA-256 ${sha256Hex(data)} (${data.length} bytes) is not the manifest's ${entry.sha256} (${entry.size} bytes)`,
      );
  }
  for (const name of files.keys()) {
    if (name !== MANIFEST && name !== MANIFEST_SIG && !listed.has(name))
      bad(name, 'FILE_UNLISTED', 'not listed in the manifest');
  }
  for (const name of [RECORDS_JSONL, PROOFS, CHECKPOINT, KEY_PUB])
    if (!listed.has(name)) bad(MANIFEST, 'MANIFEST_INCOMPLETE', `does not list ${name}`);
}

function parseManifest(data: Buffer, report: (problem: string) => void): Manifest | null {
  const value = parseJson(data, report);
  if (value === undefined) return null;
  if (
    !isObject(value) ||
    typeof value.format !== 'string' ||
    !BUNDLE_FORMATS.includes(value.format) ||
    typeof value.chain !== 'string' ||
    typeof value.origin !== 'string' ||
    !Array.isArray(value.files)
  ) {
    report(`is not a ${BUNDLE_FORMATS.join(' or ')} manifest (format, chain, origin, files)`);
    return null;
  }
  const names = new Set<string>();
  for (const entry of value.files as unknown[]) {
    if (
      !isObject(entry) ||
      typeof entry.name !== 'string' ||
      typeof entry.sha256 !== 'string' ||
      !HEX32.test(entry.sha256) ||
      typeof entry.size !== 'number'
    ) {
      report('has a file entry without name, sha256 (64 hex digits) and size');
      return null;
    }
    if (names.has(entry.name) || entry.name === MANIFEST || entry.name === MANIFEST_SIG || entry.name.includes('/')) {
      report(`lists ${JSON.stringify(entry.name)} twice, or a name it may not list`);
      return null;
    }
    names.add(entry.name);
  }
  if (value.export !== undefined) {
    const problem = exportProblem(value.export, value.chain);
    if (problem) {
      report(`has an export member that ${problem}`);
      return null;
    }
  }
  return value as unknown as Manifest;
}

/** Why a manifest's export member is not an ExportMembership of a bundle of `chain`, or null. */
function exportProblem(membership: unknown, chain: string): string | null {
  if (!isObject(membership) || typeof membership.id !== 'string' || !EXPORT_ID.test(membership.id))
    return 'has no id of 32 hex digits';
  const { chains } = membership;
  if (!Array.isArray(chains) || !chains.length || !chains.every((c): c is string => typeof c === 'string'))
    return 'lists no chains';
  for (let i = 1; i < chains.length; i++)
    if (!(chains[i - 1]! < chains[i]!)) return 'lists its chains out of order or twice';
  if (!chains.includes(chain)) return `does not list the bundle's own chain ${JSON.stringify(chain)}`;
  return null;
}
