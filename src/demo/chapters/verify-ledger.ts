import { isDamaged, verifyLedger as checkLedger } from '../../evidence/ledger-check.js';
import { describeChain } from '../../evidence/ledger-report.js';
import { loadVerifierKey } from '../../evidence/keys.js';
import type { Chapter } from './chapter.js';
import { expect } from './chapter.js';

export const verifyLedger: Chapter = {
  title: 'The whole ledger, checked end to end',
  async run({ pool, say, signer, evidence }) {
    say.say('`writ verify` re-reads every record: sequence, hash links, stored copies, the Merkle tree, and every');
    say.say('signed checkpoint, in the ledger and in the anchor directory outside it (where a superuser who');
    say.say('rewrote the whole table could not follow):');
    const s3 = evidence.anchors.find((sink) => sink.name.startsWith('s3:'));
    if (s3) {
      say.say(`and in ${s3.name}, an S3 bucket with Object Lock: each checkpoint is locked there in compliance`);
      say.say('mode, so the server refuses to delete it, and an overwrite would show as a second version:');
    }
    const key = await loadVerifierKey(signer.verifierKey);
    const { chains: results } = await checkLedger(pool, {
      origin: evidence.origin,
      anchors: evidence.anchors,
      key,
      projection: false,
    });
    for (const result of results) say.quote(describeChain(result));
    const damaged = results.filter(isDamaged);
    expect(results.length > 0, "the ledger should hold the story's records, but it is empty");
    expect(!damaged.length, `the ledger should verify, but chain ${damaged[0]?.verdict.chainId} is damaged`);
    const checked = results.reduce((sum, r) => sum + r.audit.checked, 0);
    expect(
      checked > 0 && results.every((r) => r.audit.signaturesChecked),
      "the story's checkpoints should have been signed and checked",
    );
    if (s3)
      expect(
        results.every((r) => r.audit.latest?.sources.includes(s3.name)),
        `the newest checkpoint of every chain should be held by ${s3.name}`,
      );
    return {
      s3Anchor: s3?.name ?? null,
      chains: results.map((r) => ({
        chain: r.verdict.chainId,
        records: r.verdict.records,
        checkpoints: r.audit.checked,
      })),
    };
  },
};
