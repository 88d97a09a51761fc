/**
 * The Slack requests already handled, remembered for as long as their timestamp is accepted: a
 * request captured on the way and sent again carries the same signature, so it is refused by it.
 */
export class SeenSlackRequests {
  private readonly seen = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  /** True the first time `signature` is seen within the window; false for a replay. */
  first(signature: string, nowMs: number): boolean {
    for (const [held, until] of this.seen) if (until <= nowMs) this.seen.delete(held);
    if (this.seen.has(signature)) return false;
    this.seen.set(signature, nowMs + this.windowMs);
    return true;
  }
}
