import { describeWhatHappened, whatHappened } from '../../evidence/what-happened/index.js';
import type { Chapter } from './chapter.js';
import { expect } from './chapter.js';

/** Chapter 2's operation has the richest story: a refusal, an approval, a write. */
export const APPROVAL_CHAPTER = 2;

export const whatHappenedChapter: Chapter = {
  title: 'What happened? One question, one answer from the ledger',
  async run({ pool, say, operations }) {
    const operationId = operations.get(APPROVAL_CHAPTER);
    expect(operationId, 'chapter 2 left no operation to ask about');
    say.say(`Weeks later an auditor asks what happened to Acme's tier. \`writ what-happened ${operationId}\``);
    say.say('answers from the ledger (one indexed read of a projection kept in the same transaction as each record):');
    const started = process.hrtime.bigint();
    const found = await whatHappened(pool, operationId);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(found, `the ledger has no operation ${operationId}`);
    say.quote(describeWhatHappened(found));
    const op = found.operations[0]!;
    expect(op.outcome === 'succeeded', `the ledger should say the operation succeeded, but it says ${op.outcome}`);
    expect(
      op.approvals.granted === 1 && op.approvals.refused === 1,
      `the ledger should hold one granted and one refused approval, but it holds ${op.approvals.granted} granted and ${op.approvals.refused} refused`,
    );
    say.say(`(answered in ${ms.toFixed(1)} ms)`);
    return {
      about: operationId,
      outcome: op.outcome,
      events: op.events,
      approvalsGranted: op.approvals.granted,
      approvalsRefused: op.approvals.refused,
    };
  },
};
