/**
 * An operation's local activities run one at a time: the main flow's and a message handler's never
 * overlap. Live, two overlapping local activities resolve in the order they finish. Replayed, the
 * worker's SDK core (1.24) resolves them in another order once one of them outlasted its workflow
 * task (a task heartbeat): a resolution handled while the append that calls for a person was still
 * running replays with the main flow's commands before the resolution's own, and the run fails with
 * non-determinism (test/workflow/local-activity-order). One at a time, each local activity is
 * started only after the one before it resolved, so the order of commands follows the order of the
 * calls alone, live and replayed.
 */
import type { LocalActivityInterfaceFor } from '@temporalio/workflow';
import { aroundActivities } from './around-activities.js';
import type { RunPatches } from './run-patches.js';

/** Runs recorded before this overlapped their local activities; replaying them must too. */
export const ONE_LOCAL_ACTIVITY_AT_A_TIME_PATCH = 'writ-one-local-activity-at-a-time';

export class LocalActivityTurns {
  private last: Promise<unknown> = Promise.resolve();

  private constructor(private readonly oneAtATime: boolean) {}

  /**
   * Asked once, in the run's first workflow task: a marker there is always seen before any code
   * runs on replay, where one asked later can be decided before its marker is seen.
   */
  static forThisRun(patches: RunPatches): LocalActivityTurns {
    return new LocalActivityTurns(patches.has(ONE_LOCAL_ACTIVITY_AT_A_TIME_PATCH));
  }

  /** `call` once every local activity called before it has settled. */
  take<T>(call: () => Promise<T>): Promise<T> {
    if (!this.oneAtATime) return call();
    const turn = this.last.then(call);
    this.last = turn.catch(() => undefined);
    return turn;
  }

  /** The same local activities, each taking its turn. */
  wrap<T>(activities: LocalActivityInterfaceFor<T>): LocalActivityInterfaceFor<T> {
    return aroundActivities(activities, (_name, call) => this.take(call));
  }
}
