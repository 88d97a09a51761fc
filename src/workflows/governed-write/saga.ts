import { CancellationScope } from '@temporalio/workflow';

/** How undoing one step went: a failure says what could not be undone. */
export type CompensationOutcome = { ok: true } | { ok: false; failure: string };

/**
 * What was done, so it can be undone: push after each step succeeds, unwind newest first. The
 * compensation records its own outcome; a failed one is returned, never swallowed.
 */
export class Saga<Done> {
  private readonly done: Done[] = [];

  constructor(private readonly compensate: (done: Done) => Promise<CompensationOutcome>) {}

  push(done: Done): void {
    this.done.push(done);
  }

  get completed(): readonly Done[] {
    return this.done;
  }

  /** Runs every compensation, newest first; returns the failures. */
  async unwind(): Promise<string[]> {
    const failures: string[] = [];
    // Even if the workflow is cancelled now, what was done must still be undone.
    await CancellationScope.nonCancellable(async () => {
      for (const done of [...this.done].reverse()) {
        const outcome = await this.compensate(done);
        if (!outcome.ok) failures.push(outcome.failure);
      }
    });
    return failures;
  }
}
