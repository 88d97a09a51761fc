import { HASH_BYTES, chainHash } from '../verify/hash.js';
import type { PreparedRecord } from './record.js';

/** A record's place in its chain: what the next record links on to. */
export interface Link {
  seq: number;
  hash: Buffer;
}

/** The links of a batch's records, in the records' order. */
export interface LinkColumns {
  firstSeq: number;
  /** The first record's prev_hash, then each record's hash: 32 bytes each. */
  hashes: Buffer;
  epoch: number;
}

/** A batch sent with links and not yet settled, in the order batches were linked. */
interface Flight {
  links: LinkColumns;
  settled: Promise<boolean>;
  settle: (written: boolean) => void;
}

/** After a link was refused, records go without one this long before the head is tried again (doubling). */
const CONTENDED_MS = 1000;
const MOST_CONTENDED_MS = 60_000;

/**
 * Where one chain's next batch links on to, as this appender sees it. The database checks every
 * link it is sent (migration 0014), so a wrong guess costs a refused statement, never a forged
 * record; what this saves, when it guesses right, is the database linking row by row under the
 * chain's lock.
 *
 * `next` assumes every batch sent with a link commits. It is forgotten when one does not; then
 * batches go without a link (the database links them, as it did before 0014) until the lane is
 * idle and the newest committed record is known. A link refused when every batch it was linked on
 * to had committed means another process appended in between: the chain is shared, and batches go
 * without a link for a second, then two, up to a minute while that goes on, rather than racing
 * that process for every seq.
 */
export class ChainHead {
  private next: Link | null = null;
  private newestSeen: Link | null = null;
  private contendedUntil = 0;
  private contendedFor = CONTENDED_MS;
  /** Counts losses of `next`: a batch linked before the last loss fails because of it, not on its own. */
  private epoch = 0;
  private readonly flights: Flight[] = [];

  /**
   * Whether a batch may go now. One without a link waits while an earlier batch may still move the
   * head. At most two linked batches are in flight: the second may wait in the database for the
   * first, and a third waiting for the second while the second waits for it would deadlock.
   */
  maySend(inFlight: number, now = Date.now()): boolean {
    if (now < this.contendedUntil) return true;
    if (this.next !== null) return this.flights.length < 2;
    return inFlight === 0;
  }

  /** Links the records on to the head, or null when the head is not known (the database links them). */
  claim(records: readonly PreparedRecord[], now = Date.now()): LinkColumns | null {
    if (!this.next || now < this.contendedUntil) return null;
    const hashes = Buffer.allocUnsafe(HASH_BYTES * (records.length + 1));
    let { hash } = this.next;
    hash.copy(hashes, 0);
    records.forEach(({ canonical }, index) => {
      hash = chainHash(hash, canonical);
      hash.copy(hashes, HASH_BYTES * (index + 1));
    });
    const links: LinkColumns = { firstSeq: this.next.seq + 1, hashes, epoch: this.epoch };
    this.next = { seq: this.next.seq + records.length, hash };
    let settle: (written: boolean) => void = () => undefined;
    const settled = new Promise<boolean>((resolve) => (settle = resolve));
    this.flights.push({ links, settled, settle });
    return links;
  }

  /**
   * Whether every batch linked before `links` has committed: then a refusal of `links` came from
   * its check running before those batches' rows were there to see, and the same links may go
   * again. Waits for those batches to settle.
   */
  async earlierCommitted(links: LinkColumns): Promise<boolean> {
    const index = this.flights.findIndex((flight) => flight.links === links);
    if (index <= 0) return false;
    const earlier = await Promise.all(this.flights.slice(0, index).map((flight) => flight.settled));
    return earlier.every(Boolean);
  }

  /** The last statement that carried `links` has ended: committed when `written`, else nothing of it was. */
  settled(links: LinkColumns, written: boolean, refused: boolean, now = Date.now()): void {
    const index = this.flights.findIndex((flight) => flight.links === links);
    if (index < 0) return;
    const [flight] = this.flights.splice(index, 1);
    const stacked = index > 0;
    flight!.settle(written);
    if (written) this.contendedFor = CONTENDED_MS;
    if (written || links.epoch !== this.epoch) return;
    // Later links were built on these records: they are wrong too.
    this.epoch += 1;
    this.next = null;
    if (refused && !stacked) {
      this.contendedUntil = now + this.contendedFor;
      this.contendedFor = Math.min(MOST_CONTENDED_MS, this.contendedFor * 2);
    }
  }

  /** A batch committed with `tail` its newest record; `idle` when no other batch of the chain is in flight. */
  committed(tail: Link | undefined, idle: boolean): void {
    if (this.next) return;
    if (tail && (!this.newestSeen || tail.seq > this.newestSeen.seq)) this.newestSeen = tail;
    if (idle && this.newestSeen) {
      this.next = this.newestSeen;
      this.newestSeen = null;
    }
  }
}
