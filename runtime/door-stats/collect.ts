// `mailfilter door-stats`: one pass over what the mail log gained since the last pass (a timer
// runs it every 5 minutes). The counts and the new place in the log are written in one
// transaction, so a pass that fails or is killed is simply done again by the next.
import { openQuarantineDatabase } from '../storage/quarantine-db.js';
import { addDoorCounts, readCursor, tally, writeCursor, type DoorTally } from './door-counts.js';
import { readNewLines } from './log-reader.js';
import { doorEventOf } from './log-line.js';

export const DEFAULT_MAIL_LOG = '/var/log/mail.log';

export interface CollectReport {
  lines: number;
  counted: number;
}

export async function collectDoorStats(quarantineDir: string, logPath = DEFAULT_MAIL_LOG, nowMs = Date.now()): Promise<CollectReport> {
  const db = openQuarantineDatabase(quarantineDir);
  try {
    const counts: DoorTally = new Map();
    let lines = 0;
    let counted = 0;
    const cursor = await readNewLines(logPath, readCursor(db, logPath), (line) => {
      lines += 1;
      const event = doorEventOf(line, nowMs);
      if (!event) return;
      counted += 1;
      tally(counts, event.day, event.kind);
    });
    db.transaction(() => {
      addDoorCounts(db, counts);
      if (cursor) writeCursor(db, logPath, cursor);
    })();
    return { lines, counted };
  } finally {
    db.close();
  }
}
