import { exportSetFindings } from './export-set.js';
import type { BundleVerdict, VerifyBundleOptions } from './verify.js';
import { verifyBundle } from './verify.js';

export interface ExportVerdict {
  /** Each bundle's verdict, in the order given, with what the export's check found about it. */
  bundles: Array<{ dir: string; verdict: BundleVerdict }>;
  /** About the export as a whole, not any one bundle. */
  warnings: string[];
}

/**
 * The bundles of one export that spanned several chains, given together: each checked as a bundle,
 * then all of them as the export their signed manifests name, so that a bundle left out or one
 * brought in from another export fails the check. Bundles are read one at a time (`read` gives a
 * directory's files), so only one is held in memory.
 */
export async function verifyExport(
  dirs: readonly string[],
  read: (dir: string) => Promise<ReadonlyMap<string, Uint8Array>>,
  options: VerifyBundleOptions = {},
): Promise<ExportVerdict> {
  const bundles: ExportVerdict['bundles'] = [];
  for (const dir of dirs)
    bundles.push({ dir, verdict: await verifyBundle(await read(dir), { ...options, partOfExport: true }) });
  const { findings, warning } = exportSetFindings(bundles.map(({ verdict }) => verdict));
  bundles.forEach(({ verdict }, i) => {
    if (!findings[i]!.length) return;
    verdict.findings.push(...findings[i]!);
    verdict.ok = false;
  });
  return { bundles, warnings: warning ? [warning] : [] };
}
