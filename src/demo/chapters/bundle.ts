import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportBundle } from '../../evidence/bundle/export.js';
import { readBundle } from '../../evidence/bundle/read.js';
import { writeBundle } from '../../evidence/bundle/write.js';
import { RECORDS_JSONL } from '../../verify/bundle/format.js';
import { verifyBundle } from '../../verify/bundle/verify.js';
import { loadVerifierKey } from '../../evidence/keys.js';
import type { Chapter } from './chapter.js';
import { expect } from './chapter.js';
import { APPROVAL_CHAPTER } from './what-happened.js';

export const bundleChapter: Chapter = {
  title: 'Evidence that checks out offline, without trusting Writ',
  async run({ pool, say, operations, signer, evidence, workDir }) {
    const operationId = operations.get(APPROVAL_CHAPTER);
    expect(operationId, 'chapter 2 left no operation to export');
    const dir = join(workDir, 'bundle');
    await mkdir(dir);
    say.say(`\`writ export ${operationId} --out ${dir}\` writes an evidence bundle: the operation's records, a`);
    say.say(
      'Merkle inclusion proof for each, the signed checkpoint that covers them, signed statements, the public key:',
    );
    const bundle = await exportBundle(
      pool,
      { id: operationId },
      { signer, origin: evidence.origin, anchors: evidence.anchors },
    );
    await writeBundle(dir, bundle.files);
    say.quote([...bundle.files.keys()].sort().join('  '));
    say.say(
      `An auditor checks it with no database, only the verifier key we gave them (\`writ verify-bundle ${dir} --verifier-key <the key above>\`):`,
    );
    const key = await loadVerifierKey(signer.verifierKey);
    const verdict = await verifyBundle(await readBundle(dir), { verifierKey: key });
    expect(
      verdict.ok,
      `the fresh bundle should verify, but: ${verdict.findings.map((f) => `${f.file}: ${f.problem}`).join('; ')}`,
    );
    say.quote(
      `intact: ${verdict.records} records of chain ${verdict.chain}, every one included in checkpoint ${verdict.checkpoint?.origin}@${verdict.checkpoint?.size}`,
    );

    // The point of evidence is that a change shows: edit one copied record the way a forger would.
    const forged = join(workDir, 'bundle-forged');
    await cp(dir, forged, { recursive: true });
    const forgedSeq = await forgeApprover(join(forged, RECORDS_JSONL), 'bob', 'eve');
    expect(forgedSeq !== null, "the bundle's records should name bob as the approver");
    say.say(`Now a copy where someone changed the approver of record ${forgedSeq} from bob to eve:`);
    const tampered = await verifyBundle(await readBundle(forged), { verifierKey: key });
    expect(!tampered.ok, 'a bundle with an edited record must not verify, but it did');
    say.quote(
      [
        'DAMAGED',
        ...tampered.findings
          .slice(0, 4)
          .map((f) => `  ${f.file}${f.seq === undefined ? '' : ` record ${f.seq}`}: ${f.problem}`),
        ...(tampered.findings.length > 4 ? [`  (and ${tampered.findings.length - 4} more)`] : []),
      ].join('\n'),
    );
    return {
      about: operationId,
      bundle: dir,
      records: verdict.records,
      checkpointSize: verdict.checkpoint?.size,
      forgedCopyDetected: true,
    };
  },
};

/** Rewrites the first record naming `from` so it names `to`, as a forger editing the bundle would; returns its seq. */
async function forgeApprover(file: string, from: string, to: string): Promise<number | null> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  for (const [index, line] of lines.entries()) {
    if (!line) continue;
    const entry = JSON.parse(line) as { seq: number; canonical: string };
    const canonical = Buffer.from(entry.canonical, 'base64').toString('utf8');
    if (!canonical.includes(`"${from}"`)) continue;
    entry.canonical = Buffer.from(canonical.replace(`"${from}"`, `"${to}"`), 'utf8').toString('base64');
    lines[index] = JSON.stringify(entry);
    await writeFile(file, lines.join('\n'));
    return entry.seq;
  }
  return null;
}
