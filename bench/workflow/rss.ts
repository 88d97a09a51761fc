import { readFileSync } from 'node:fs';

/** A process's resident set (VmRSS) or its high-water mark (VmHWM) in MB, from /proc (Linux); null once it has gone. */
export function residentMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}

/**
 * Samples a process's resident set every `everyMs` until stopped; `peak` is the largest sample.
 * Sampling, not VmHWM: the high-water mark would include the start-up, which is not the load.
 */
export class RssSampler {
  peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 50,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): number {
    const mb = residentMb(this.pid) ?? 0;
    this.peak = Math.max(this.peak, mb);
    return mb;
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return Math.round(this.peak * 10) / 10;
  }
}
