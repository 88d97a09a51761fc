/**
 * P5: export of one operation's evidence bundle (exportBundle, what `writ export <id>` runs for
 * records on one chain) and its offline verification (verifyBundle, what `writ verify-bundle` runs
 * on the files), in-process,
 * for random operations. Baselines from the same run: the indexed SELECT of the operation's
 * records that any export must do, and a raw SHA-256 over every byte of the bundle, which any
 * verifier must at least read. Proof sizes: the exported proofs, and proofs at earlier sizes of
 * the same ledger to show the growth.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { exportBundle } from '../../src/evidence/bundle/export.js';
import { PROOFS } from '../../src/verify/bundle/format.js';
import type { ProofsFile } from '../../src/verify/bundle/format.js';
import { verifyBundle } from '../../src/verify/bundle/verify.js';
import { log, ratio } from '../support.js';
import type { EvidenceFixture } from './fixture.js';
import { sizeLabel } from './fixture.js';
import { ORIGIN } from './fill.js';
import { proofSizes } from './proof-sizes.js';
import { Rng } from './random.js';
import { latency, sampleIds, timed } from './sample.js';

const SAMPLES = 200;
const WARMUP = 10;
const HASH_BYTES = 32;

export async function benchBundles(pool: pg.Pool, fixture: EvidenceFixture): Promise<Record<string, number>> {
  const rng = new Rng(5);
  // Two disjoint sets: the baseline reads one operation's records, the export another's, so
  // neither runs on pages the other has just cached.
  const sampled = (await sampleIds(pool, fixture.records, 2 * (SAMPLES + WARMUP), rng)).map((s) => s.operationId);
  const baselineOperations = sampled.splice(0, Math.floor(sampled.length / 2));
  const operations = sampled.slice(0, baselineOperations.length);
  if (operations.length < WARMUP + 50)
    throw new Error(`only ${2 * operations.length} operations in distinct traces were found; use a larger --records`);
  const times = {
    select: [] as number[],
    export: [] as number[],
    verify: [] as number[],
    sha: [] as number[],
    total: [] as number[],
  };
  const proofLengths: number[] = [];
  const bundleBytes: number[] = [];
  const proofsFileBytesPerRecord: number[] = [];
  const recordsPerBundle: number[] = [];

  for (const [i, operationId] of operations.entries()) {
    const into = <K extends keyof typeof times>(key: K) => (i < WARMUP ? [] : times[key]);
    await timed(into('select'), () =>
      pool.query('SELECT canonical FROM writ.records WHERE operation_id = $1 ORDER BY chain_id, seq', [
        baselineOperations[i],
      ]),
    );
    const bundle = await timed(into('export'), () =>
      exportBundle(pool, { id: operationId }, { signer: fixture.signer, origin: ORIGIN, anchors: [] }),
    );
    if (bundle.wroteCheckpoint)
      throw new Error("the export signed a new checkpoint: the fixture's checkpoint should cover the whole ledger");
    const verdict = await timed(into('verify'), async () =>
      verifyBundle(bundle.files, { verifierKey: fixture.verifierKey }),
    );
    if (!verdict.ok || verdict.warnings.length)
      throw new Error(
        `the bundle of ${operationId} does not verify: ${JSON.stringify(verdict.findings.slice(0, 3))} ${verdict.warnings.join('; ')}`,
      );
    await timed(into('sha'), async () => {
      for (const bytes of bundle.files.values()) createHash('sha256').update(bytes).digest();
    });
    if (i < WARMUP) continue;
    times.total.push(times.export.at(-1)! + times.verify.at(-1)!);
    const proofs = JSON.parse(bundle.files.get(PROOFS)!.toString('utf8')) as ProofsFile;
    for (const proof of proofs.proofs) proofLengths.push(proof.path.length);
    proofsFileBytesPerRecord.push(bundle.files.get(PROOFS)!.length / bundle.records);
    bundleBytes.push([...bundle.files.values()].reduce((sum, bytes) => sum + bytes.length, 0));
    recordsPerBundle.push(bundle.records);
  }

  const select = latency(times.select);
  const exported = latency(times.export);
  const verified = latency(times.verify);
  const sha = latency(times.sha);
  const total = latency(times.total);
  const mean = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100;
  log(
    `P5 baseline: indexed SELECT of the operation's records: p50 ${select.p50} ms, p99 ${select.p99} ms; SHA-256 of every bundle byte: p50 ${sha.p50} ms, p99 ${sha.p99} ms`,
  );
  log(
    `P5 export: p50 ${exported.p50} ms, p99 ${exported.p99} ms, max ${exported.max} ms | verify: p50 ${verified.p50} ms, p99 ${verified.p99} ms, max ${verified.max} ms | both: p50 ${total.p50} ms, p99 ${total.p99} ms (${times.total.length} operations, ${mean(recordsPerBundle)} records and ${Math.round(mean(bundleBytes))} bytes a bundle)`,
  );

  const sizes = await proofSizes(
    pool,
    [...new Set([1_000, 32_000, 1_000_000].filter((n) => n < fixture.records).concat(fixture.records))],
    rng,
  );
  for (const s of sizes)
    log(
      `P5 inclusion proof at ${s.treeSize.toLocaleString('en')} records: ${s.meanHashes} hashes on average, at most ${s.maxHashes} (${s.maxHashes * HASH_BYTES} bytes); ceil(log2 n) = ${s.log2}`,
    );
  const exportedMean = mean(proofLengths);
  log(
    `P5 exported proofs at ${fixture.records.toLocaleString('en')} records: ${exportedMean} hashes a record on average (${Math.round(exportedMean * HASH_BYTES)} bytes), at most ${Math.max(...proofLengths)}; proofs.json ${Math.round(mean(proofsFileBytesPerRecord))} bytes a record (base64 in JSON)`,
  );

  const figures: Record<string, number> = {
    p5_samples: times.total.length,
    p5_records_per_bundle: mean(recordsPerBundle),
    p5_bundle_bytes: Math.round(mean(bundleBytes)),
    p5_export_p50_ms: exported.p50,
    p5_export_p99_ms: exported.p99,
    p5_verify_p50_ms: verified.p50,
    p5_verify_p99_ms: verified.p99,
    p5_total_p50_ms: total.p50,
    p5_total_p99_ms: total.p99,
    p5_baseline_select_p50_ms: select.p50,
    p5_baseline_sha256_p50_ms: sha.p50,
    p5_export_ratio_p50: ratio(exported.p50, select.p50),
    p5_verify_ratio_p50: ratio(verified.p50, sha.p50),
    p5_proof_hashes_mean: exportedMean,
    p5_proof_hashes_max: Math.max(...proofLengths),
    p5_proof_bytes_max: Math.max(...proofLengths) * HASH_BYTES,
    p5_proofs_json_bytes_per_record: Math.round(mean(proofsFileBytesPerRecord)),
  };
  for (const s of sizes) {
    const label = sizeLabel(s.treeSize);
    figures[`p5_proof_hashes_at_${label}`] = s.meanHashes;
    figures[`p5_proof_hashes_max_at_${label}`] = s.maxHashes;
    figures[`p5_log2_at_${label}`] = s.log2;
  }
  return figures;
}
