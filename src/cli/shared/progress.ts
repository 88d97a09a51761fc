import cliProgress from 'cli-progress';

/** A progress report a long command makes as it goes: records done out of a total, and for what. */
export type Progress = (done: number, total: number, what?: string) => void;

export interface TerminalProgress {
  /** Null when no bar is shown, so callers pass nothing down and pay nothing. */
  update: Progress | null;
  stop(): void;
}

/**
 * A bar on stderr for a long run, shown only when stderr is a terminal and the output is not for a
 * program (`quiet`, e.g. --json): a pipe, a log file or CI gets nothing, not a stream of redraws.
 */
export function terminalProgress(label: string, options: { quiet?: boolean } = {}): TerminalProgress {
  if (!process.stderr.isTTY || options.quiet) return { update: null, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} {what} [{bar}] {percentage}% | {value}/{total} records | {eta_formatted} left`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (done, total, what = '') => {
      if (!started) {
        bar.start(total, done, { what });
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done, { what });
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
