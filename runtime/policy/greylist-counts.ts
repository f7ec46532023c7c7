// Greylisting's answers per day for the console's chart, counted here rather than read from the
// mail log: Postfix logs a 450 but never a DUNNO, so only this service sees a triplet pass. The
// counts are written every few seconds to door_daily (the quarantine index, or the shared
// database); a failed write is logged and kept for the next, never an answer held.
import type { Logger } from '../log.js';
import { addDoorCounts, type DoorCountsDatabase, type DoorTally, tally } from '../door-stats/door-counts.js';
import { utcDay } from '../time/utc.js';
import { FIRST_PASS, type GreylistAnswer } from './greylist.js';

/** Where the counts go, opened when first written to (the quarantine's folder may come later). */
export interface CountsTarget {
  open(): DoorCountsDatabase;
  /** Ends a handle open() made; the shared database's handle is the daemon's to end. */
  release(db: DoorCountsDatabase): Promise<void>;
}

export class GreylistCounts {
  private pending: DoorTally = new Map();
  private timer: NodeJS.Timeout | null = null;
  private db: DoorCountsDatabase | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly target: CountsTarget,
    private readonly log: Logger,
    private readonly flushMs = 5000,
  ) {}

  count(answer: GreylistAnswer, atMs = Date.now()): void {
    const kind = answer.action.startsWith('450 ') ? 'greylisted' : answer.why === FIRST_PASS ? 'greylist-passed' : undefined;
    if (!kind) return;
    tally(this.pending, utcDay(atMs), kind);
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** Writes the counts so far, one write at a time; never throws. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const counts = this.pending;
    this.pending = new Map();
    try {
      this.db ??= this.target.open();
      await addDoorCounts(this.db, counts);
    } catch (err) {
      // A day and kind per key: what waits for the next write stays a handful of numbers.
      for (const [key, n] of counts) this.pending.set(key, (this.pending.get(key) ?? 0) + n);
      this.log.warn('greylist counts not written, kept for the next try', { error: (err as Error).message });
      const db = this.db;
      this.db = null;
      if (db) await this.target.release(db).catch(() => undefined);
      this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
    }
  }

  /** Writes what is left (lost, logged, when that fails) and ends the handle. */
  async close(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size > 0) this.log.warn('greylist counts lost at stop', { kinds: this.pending.size });
    if (this.db) await this.target.release(this.db);
    this.db = null;
  }
}

/** One appliance's counts: its quarantine index. */
export function localCounts(openIndex: () => DoorCountsDatabase): CountsTarget {
  return { open: openIndex, release: (db) => db.destroy() };
}

/** The cluster's counts: the shared database, whose handle the daemon ends. */
export function sharedCounts(db: DoorCountsDatabase): CountsTarget {
  return { open: () => db, release: () => Promise.resolve() };
}
