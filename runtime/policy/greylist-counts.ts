// Greylisting's answers per day for the console's chart, counted here rather than read from the
// mail log: Postfix logs a 450 but never a DUNNO, so only this service sees a triplet pass. The
// counts are written to the quarantine index every few seconds; a failure there is logged and
// the counts dropped, never an answer held.
import type Database from 'better-sqlite3';
import type { Logger } from '../log.js';
import { openQuarantineDatabase } from '../storage/quarantine-db.js';
import { addDoorCounts, tally, type DoorTally } from '../door-stats/door-counts.js';
import { utcDay } from '../time/utc.js';
import { FIRST_PASS, type GreylistAnswer } from './greylist.js';

export class GreylistCounts {
  private pending: DoorTally = new Map();
  private timer: NodeJS.Timeout | null = null;
  private db: Database.Database | null = null;

  constructor(
    private readonly quarantineDir: string,
    private readonly log: Logger,
    private readonly flushMs = 5000,
  ) {}

  count(answer: GreylistAnswer, atMs = Date.now()): void {
    const kind = answer.action.startsWith('450 ') ? 'greylisted' : answer.why === FIRST_PASS ? 'greylist-passed' : undefined;
    if (!kind) return;
    tally(this.pending, utcDay(atMs), kind);
    this.timer ??= setTimeout(() => this.flush(), this.flushMs).unref();
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const counts = this.pending;
    this.pending = new Map();
    try {
      this.db ??= openQuarantineDatabase(this.quarantineDir);
      const db = this.db;
      db.transaction(() => addDoorCounts(db, counts))();
    } catch (err) {
      this.log.warn('greylist counts not written', { error: (err as Error).message });
      this.db?.close();
      this.db = null;
    }
  }

  close(): void {
    this.flush();
    this.db?.close();
    this.db = null;
  }
}
