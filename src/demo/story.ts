import type { Chapter, ChapterFacts, StoryContext } from './chapters/chapter.js';
import { ChapterFailure } from './chapters/chapter.js';
import { approval } from './chapters/approval.js';
import { bundleChapter } from './chapters/bundle.js';
import { dryRun } from './chapters/dry-run.js';
import { lowRisk } from './chapters/low-risk.js';
import { rollback } from './chapters/rollback.js';
import { verifyLedger } from './chapters/verify-ledger.js';
import { whatHappenedChapter } from './chapters/what-happened.js';
import { WritError } from '../model/errors.js';

/** The story, in the order it is told; chapter numbers are positions here, starting at 1. */
export const CHAPTERS: readonly Chapter[] = [
  lowRisk,
  approval,
  rollback,
  dryRun,
  whatHappenedChapter,
  bundleChapter,
  verifyLedger,
];

export interface ChapterResult extends ChapterFacts {
  number: number;
  title: string;
  ok: boolean;
  error?: string;
}

/** A chapter that did not go as told, named so the user knows where the story broke. */
export class StoryError extends WritError {
  override readonly name = 'StoryError';
  constructor(
    readonly chapter: ChapterResult,
    readonly expected: boolean,
  ) {
    super(
      expected ? 'STORY_NOT_AS_TOLD' : 'STORY_UNTOLD',
      `chapter ${chapter.number} ("${chapter.title}") ${expected ? 'did not go as told' : 'could not be told'}: ${chapter.error}`,
    );
  }
}

/**
 * Tells every chapter in order and stops at the first that does not go as told: later chapters
 * build on earlier ones, and a story that went wrong should say where, not pile on.
 */
export async function tellStory(
  context: StoryContext,
  onChapter: (result: ChapterResult) => void = () => undefined,
  chapters: readonly Chapter[] = CHAPTERS,
): Promise<ChapterResult[]> {
  const results: ChapterResult[] = [];
  for (const [index, chapter] of chapters.entries()) {
    const number = index + 1;
    context.say.chapter(number, chapter.title);
    try {
      const facts = await chapter.run(context);
      const result = { ...facts, number, title: chapter.title, ok: true };
      if (facts.operationId) context.operations.set(number, facts.operationId);
      results.push(result);
      onChapter(result);
    } catch (error) {
      const result: ChapterResult = { number, title: chapter.title, ok: false, error: (error as Error).message };
      results.push(result);
      onChapter(result);
      throw context.signal.aborted ? error : new StoryError(result, error instanceof ChapterFailure);
    }
  }
  return results;
}
