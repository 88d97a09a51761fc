/**
 * Everything the demo or `writ dev` starts registers how to undo it here, as soon as it exists,
 * so a failure halfway through or a Ctrl-C undoes exactly what was made, newest first.
 */
export class Cleanup {
  private readonly steps: Array<{ name: string; undo: () => Promise<void> }> = [];
  private running: Promise<string[]> | undefined;

  private done = false;

  add(name: string, undo: () => Promise<void>): void {
    // Something that finished starting after clean-up ran (a Ctrl-C during setup): undo it at once.
    if (this.done) {
      undo().catch(() => undefined);
      return;
    }
    this.steps.push({ name, undo });
  }

  /** Runs every step once, newest first; a step that fails or hangs is reported and the rest still run. */
  run(log: (line: string) => void, timeoutMs = 20_000): Promise<string[]> {
    return (this.running ??= (async () => {
      this.done = true;
      const failures: string[] = [];
      for (const step of this.steps.reverse()) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            step.undo(),
            new Promise((_resolve, reject) => {
              timer = setTimeout(() => reject(new Error(`did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
            }),
          ]);
        } catch (error) {
          const failure = `${step.name}: ${(error as Error).message}`;
          failures.push(failure);
          log(`clean-up of ${failure}`);
        } finally {
          clearTimeout(timer);
        }
      }
      this.steps.length = 0;
      return failures;
    })());
  }
}

/** Resolves with the first SIGINT or SIGTERM; the returned function stops listening. */
export function nextSignal(): { signal: Promise<NodeJS.Signals>; stop: () => void } {
  let stop = () => undefined as void;
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (name: NodeJS.Signals) => resolve(name);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    stop = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  });
  return { signal, stop };
}

/**
 * While clean-up runs, a Ctrl-C must not kill the process halfway (a terminal sends one to the
 * whole process group, and impatient people press it again): the first is answered with a
 * word, a second abandons the clean-up. Returns the function that stops listening.
 */
export function holdSignalsDuringCleanup(say: (line: string) => void): () => void {
  let seen = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++seen === 1) {
      say(`${signal}: still cleaning up; send it again to stop at once and leave the rest behind`);
      return;
    }
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
