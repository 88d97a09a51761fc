import type { BundleFindingCode } from './findings.js';
import type { ExportMembership } from './format.js';
import { MANIFEST } from './format.js';

/** What a bundle's signed manifest says of the export that wrote it. */
export interface ExportMember {
  chain: string | null;
  export: ExportMembership | null;
}

export interface ExportFinding {
  file: string;
  code: BundleFindingCode;
  problem: string;
}

/**
 * A bundle checked on its own must be the whole of its export. One chain's bundle of a trace that
 * spread over three answers a third of the question, and a courier who passes on only that one
 * would otherwise hand over a bundle that checks.
 */
export function loneBundleFindings(member: ExportMember): ExportFinding[] {
  const chains = member.export?.chains ?? [];
  if (chains.length <= 1) return [];
  const others = chains.filter((chain) => chain !== member.chain);
  return [
    incomplete(
      `this bundle is one of ${chains.length} its export wrote together (chains ${chains.join(', ')}); ${others.join(', ')} not given: check the directory that holds them all`,
    ),
  ];
}

/**
 * The findings of each of the bundles given together as one export, in their order: every chain
 * the export wrote is there, once, and every bundle was written by that export. Bundles exported
 * before manifests named their export carry nothing to check this against: a warning says so.
 */
export function exportSetFindings(members: readonly ExportMember[]): {
  findings: ExportFinding[][];
  warning?: string;
} {
  const findings = members.map((): ExportFinding[] => []);
  const reference = mostNamed(members);
  if (!reference)
    return {
      findings,
      warning:
        'none of these bundles names the export that wrote it (they predate that): nothing shows whether a chain was left out',
    };
  const given = new Set<string>();
  members.forEach((member, i) => {
    const mixed = mixedProblem(member, reference);
    if (mixed) findings[i]!.push({ file: MANIFEST, code: 'EXPORT_MIXED', problem: mixed });
    if (member.chain === null) return;
    if (!given.has(member.chain)) given.add(member.chain);
    else
      findings[i]!.push({
        file: MANIFEST,
        code: 'EXPORT_MIXED',
        problem: `a second bundle of chain ${member.chain} (the export writes one per chain)`,
      });
  });
  const missing = reference.chains.filter((chain) => !given.has(chain));
  if (missing.length)
    members.forEach((member, i) => {
      if (member.export?.id === reference.id)
        findings[i]!.push(
          incomplete(
            `its export wrote bundles of chains ${reference.chains.join(', ')}; ${missing.join(', ')} not among those given`,
          ),
        );
    });
  return { findings };
}

/**
 * The export most of the bundles name (the first of them on a tie): one bundle brought in from
 * elsewhere is then the one called mixed in, whichever directory name sorts first.
 */
function mostNamed(members: readonly ExportMember[]): ExportMembership | undefined {
  const named = new Map<string, { membership: ExportMembership; count: number }>();
  for (const { export: membership } of members) {
    if (!membership) continue;
    const key = `${membership.id} ${membership.chains.join(' ')}`;
    const seen = named.get(key);
    if (seen) seen.count++;
    else named.set(key, { membership, count: 1 });
  }
  let most: { membership: ExportMembership; count: number } | undefined;
  for (const candidate of named.values()) if (!most || candidate.count > most.count) most = candidate;
  return most?.membership;
}

function mixedProblem(member: ExportMember, reference: ExportMembership): string | null {
  if (!member.export) return `names no export, unlike the others given with it (export ${reference.id})`;
  if (member.export.id !== reference.id)
    return `written by export ${member.export.id}, not by export ${reference.id} like the others given with it`;
  if (member.export.chains.join('\n') !== reference.chains.join('\n'))
    return `its export lists chains ${member.export.chains.join(', ')}, another bundle of the same export lists ${reference.chains.join(', ')}`;
  return null;
}

function incomplete(problem: string): ExportFinding {
  return { file: MANIFEST, code: 'EXPORT_INCOMPLETE', problem };
}
