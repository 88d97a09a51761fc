import type { Command } from 'commander';
import type pg from 'pg';
import { auditCheckpoints } from '../../evidence/audit.js';
import type { CheckpointAudit, CheckpointSource } from '../../evidence/audit.js';
import { originFor } from '../../evidence/checkpointer.js';
import { evidenceConfigFromEnv } from '../../evidence/config.js';
import type { EvidenceConfig } from '../../evidence/config.js';
import { loadVerifierKey } from '../../evidence/keys.js';
import type { VerifierKey } from '../../evidence/note.js';
import { checkProjection, describeDisagreement } from '../../ledger/projection-check.js';
import type { ProjectionVerdict } from '../../ledger/projection-check.js';
import { listChains, verifyStoredChain } from '../../ledger/reader.js';
import { describeLifecycleFinding } from '../../ledger/lifecycle-check.js';
import type { ChainVerdict } from '../../ledger/verify.js';
import type { GlobalOptions } from '../context.js';
import { withPool } from '../context.js';
import { CliExit, EXIT } from '../exit.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('check every record of the ledger (sequence, links, hashes, canonical bytes, stored copies) and the what-happened projection against the records; exit 1 naming the first bad record or each operation whose projection disagrees')
    .option('--json', 'print the verdict as JSON')
    .option('--deep', 'also ship every stored jsonb copy to Node and compare it there (slower; the plain check already proves the hashed bytes are RFC 8785 canonical)')
    .option('--verifier-key <key|file>', 'check checkpoint signatures with this signed-note verifier key (default: $WRIT_VERIFIER_KEY)')
    .action(async (options: { json?: boolean; deep?: boolean; verifierKey?: string }, command: Command) => {
      const config = evidenceConfigFromEnv();
      const keyText = options.verifierKey ?? config.verifierKey;
      let key: VerifierKey | null = null;
      try {
        key = keyText ? await loadVerifierKey(keyText) : null;
      } catch (error) {
        throw new CliExit(EXIT.usage, `the verifier key is unusable: ${(error as Error).message}`);
      }
      try {
        const { results, projection } = await withPool(command.optsWithGlobals<GlobalOptions>(), async (pool) => ({
          results: await verifyEverything(pool, config, key, options.deep ?? false),
          projection: await projectionOrExplain(pool),
        }));
        const damaged = results.filter(({ verdict, audit }) => !verdict.ok || audit.damage.length || verdict.illegalPaths.length);
        if (options.json) console.log(JSON.stringify({ ok: damaged.length === 0 && projection.ok, chains: results.map(toJson), projection }, null, 2));
        else {
          for (const result of results) console.log(describeChain(result));
          console.log(describeProjection(projection));
        }
        if (!results.length && !options.json) console.log('ledger is empty: nothing to verify');
        const problems = damaged.flatMap(({ verdict, audit }) => [
          ...(verdict.damage ? [`chain ${verdict.chainId} at record ${verdict.damage.seq} (${verdict.damage.kind})`] : []),
          ...(!verdict.damage && audit.damage.length ? [`chain ${verdict.chainId}: ${audit.damage.map((d) => `${d.kind} at checkpoint ${d.size} (${d.source})`).join(', ')}`] : []),
          ...verdict.illegalPaths.map((f) => `chain ${verdict.chainId}: operation ${f.operationId} closed at record ${f.seq} on an illegal path (${f.step})`),
        ]);
        const disagreeing = [...new Set(projection.disagreements.map((d) => d.operationId))];
        if (disagreeing.length) problems.push(`the what-happened projection disagrees with the records for operation(s) ${disagreeing.slice(0, 5).join(', ')}${disagreeing.length > 5 ? ` and ${disagreeing.length - 5} more` : ''}`);
        if (problems.length) throw new CliExit(EXIT.bad, `ledger damaged: ${problems.join('; ')}`);
      } finally {
        for (const sink of config.anchors) await sink.close?.();
      }
    });
}

async function projectionOrExplain(pool: pg.Pool): Promise<ProjectionVerdict> {
  try {
    return await checkProjection(pool);
  } catch (error) {
    if ((error as { code?: string }).code === '42883') throw new CliExit(EXIT.usage, 'the ledger\'s schema predates the projection check (migration 0005): run writ migrate');
    throw error;
  }
}

function describeProjection(projection: ProjectionVerdict): string {
  if (projection.ok) return `what-happened projection: agrees with the records for all ${projection.operations} operation(s)`;
  return [`what-happened projection: DISAGREES with the records (${projection.disagreements.length} field(s)):`,
    ...projection.disagreements.map((d) => `  ${describeDisagreement(d)}`)].join('\n');
}

export interface ChainResult {
  verdict: ChainVerdict;
  audit: CheckpointAudit;
}

/** Every chain the ledger or an anchor knows, checked record by record and against every checkpoint (also `writ demo`'s last chapter). */
export async function verifyEverything(pool: pg.Pool, config: EvidenceConfig, key: VerifierKey | null, deep: boolean): Promise<ChainResult[]> {
  const chains = new Set(await listChains(pool));
  const anchoredChains = await pool.query<{ chain_id: string }>('SELECT DISTINCT chain_id FROM writ.checkpoints');
  for (const row of anchoredChains.rows) chains.add(row.chain_id);
  const results: ChainResult[] = [];
  for (const chainId of [...chains].sort()) {
    const checkpoints: CheckpointSource[] = (await pool.query<{ size: string; note: string }>('SELECT size, note FROM writ.checkpoints WHERE chain_id = $1', [chainId]))
      .rows.map((row) => ({ size: Number(row.size), note: row.note, source: 'ledger' }));
    for (const sink of config.anchors) {
      for (const anchored of await sink.list(chainId)) checkpoints.push({ size: anchored.size, note: anchored.note, source: anchored.sink });
    }
    const verdict = await verifyStoredChain(pool, chainId, { deep, rootsAt: new Set(checkpoints.map((c) => c.size)) });
    const audit = auditCheckpoints({ chainId, origin: originFor(config.origin, chainId), records: verdict.ok ? verdict.records : Number.MAX_SAFE_INTEGER, roots: verdict.roots, checkpoints, key, anchored: config.anchors.length > 0 });
    results.push({ verdict, audit });
  }
  return results;
}

export function describeChain({ verdict, audit }: ChainResult): string {
  if (!verdict.ok) {
    const damage = verdict.damage!;
    return `chain ${verdict.chainId}: DAMAGED at record ${damage.seq}: ${damage.kind}: ${damage.detail} (${verdict.records} records before it verify)`;
  }
  const lines = [`chain ${verdict.chainId}: ${audit.damage.length || verdict.illegalPaths.length ? 'DAMAGED' : 'intact'}, ${verdict.records} records, head ${verdict.head?.seq ?? 0} ${verdict.head?.hash.toString('hex') ?? ''}`.trimEnd()];
  for (const finding of audit.damage) lines.push(`  ${finding.kind} at checkpoint ${finding.size} (${finding.source}): ${finding.detail}`);
  for (const finding of verdict.illegalPaths) lines.push(`  lifecycle: ${describeLifecycleFinding(finding)}`);
  if (audit.checked) {
    lines.push(`  checkpoints: ${audit.checked} checked${audit.signaturesChecked ? ', signatures verified' : ' (signatures not checked: set WRIT_VERIFIER_KEY)'}${audit.latest ? `; latest ${audit.latest.size} held by ${audit.latest.sources.join(', ')}` : ''}`);
  } else {
    lines.push('  checkpoints: none (a cut-off tail or a rewritten chain cannot be detected without them: run writ checkpoint)');
  }
  for (const warning of audit.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}

function toJson({ verdict, audit }: ChainResult) {
  return {
    checkpoints: audit,
    chain: verdict.chainId,
    ok: verdict.ok,
    records: verdict.records,
    head: verdict.head ? { seq: verdict.head.seq, hash: verdict.head.hash.toString('hex') } : null,
    damage: verdict.damage,
    illegalPaths: verdict.illegalPaths,
  };
}
