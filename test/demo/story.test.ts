import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Chapter, StoryContext } from '../../src/demo/chapters/chapter.js';
import { expect } from '../../src/demo/chapters/chapter.js';
import { Narrator } from '../../src/demo/narrator.js';
import type { ChapterResult } from '../../src/demo/story.js';
import { StoryError, tellStory } from '../../src/demo/story.js';

function context(output: string[], signal = new AbortController().signal): StoryContext {
  // The chapters below touch nothing but the narrator and the operations map.
  return { say: new Narrator((text) => output.push(text)), operations: new Map(), signal } as unknown as StoryContext;
}

test('the story stops at the first chapter that does not go as told, and says which and why', async () => {
  const ran: string[] = [];
  const chapters: Chapter[] = [
    { title: 'one goes well', run: async () => (ran.push('one'), { operationId: 'op-1', outcome: 'succeeded' }) },
    {
      title: 'two breaks its promise',
      run: async () => {
        ran.push('two');
        expect(false, 'Acme should now be gold, but it is silver');
        return {};
      },
    },
    { title: 'three never starts', run: async () => (ran.push('three'), {}) },
  ];
  const output: string[] = [];
  const seen: ChapterResult[] = [];
  const ctx = context(output);
  const told = tellStory(ctx, (result) => seen.push(result), chapters);
  await assert.rejects(told, (error: unknown) => {
    assert.ok(error instanceof StoryError);
    assert.equal(error.expected, true, 'a broken promise, not a crash');
    assert.equal(
      error.message,
      'chapter 2 ("two breaks its promise") did not go as told: Acme should now be gold, but it is silver',
    );
    return true;
  });
  assert.deepEqual(ran, ['one', 'two']);
  assert.deepEqual(
    seen.map((r) => [r.number, r.ok]),
    [
      [1, true],
      [2, false],
    ],
  );
  assert.equal(ctx.operations.get(1), 'op-1');
  assert.match(output.join(''), /\n1\. one goes well\n[\s\S]*\n2\. two breaks its promise\n/);
});

test('a chapter that crashes (rather than finding the story false) is told apart', async () => {
  const chapters: Chapter[] = [
    {
      title: 'the worker is gone',
      run: async () => {
        throw new Error('connection refused');
      },
    },
  ];
  await assert.rejects(
    tellStory(context([]), () => undefined, chapters),
    (error: unknown) => {
      assert.ok(error instanceof StoryError);
      assert.equal(error.expected, false);
      assert.match(error.message, /^chapter 1 \("the worker is gone"\) could not be told: connection refused$/);
      return true;
    },
  );
});

test('an abandoned story (Ctrl-C) ends with the abort, not as a failed chapter', async () => {
  const abort = new AbortController();
  const chapters: Chapter[] = [
    {
      title: 'waits',
      run: async ({ signal }) => {
        abort.abort(new Error('interrupted by SIGINT'));
        signal.throwIfAborted();
        return {};
      },
    },
  ];
  await assert.rejects(
    tellStory(context([], abort.signal), () => undefined, chapters),
    /interrupted by SIGINT/,
  );
});
