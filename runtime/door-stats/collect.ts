// `mailfilter door-stats`: one pass over what the mail log gained since the last pass (a timer
// runs it every 5 minutes). On one appliance the counts and the new place in the log are written
// in one transaction, so a pass that fails or is killed is simply done again by the next. With a
// shared database the counts go there first and the place in the log (this node's) after: a pass
// that cannot reach the database moves nothing and is done again; one killed between the two
// writes counts its lines twice, the lesser harm for a chart.
import { mkdirSync } from 'node:fs';
import type { AppConfig } from '../config/schema.js';
import { openSharedDatabase } from '../storage/shared-schema.js';
import {
  addDoorCounts,
  doorCountsIn,
  openLocalDoorDatabase,
  readCursor,
  tally,
  writeCursor,
  type DoorCountsDatabase,
  type DoorTally,
  type LocalDoorTables,
} from './door-counts.js';
import { readNewLines } from './log-reader.js';
import { doorEventOf } from './log-line.js';

export const DEFAULT_MAIL_LOG = '/var/log/mail.log';

export interface DoorStatsPlaces {
  /** This node's quarantine folder: its index keeps the place in the log, and on one appliance the counts. */
  quarantineDir: string;
  /** The database several appliances share, when they do: the counts go there. */
  shared?: DoorCountsDatabase;
}

export interface CollectReport {
  lines: number;
  counted: number;
}

export async function collectDoorStats(places: DoorStatsPlaces, logPath = DEFAULT_MAIL_LOG, nowMs = Date.now()): Promise<CollectReport> {
  mkdirSync(places.quarantineDir, { recursive: true, mode: 0o750 });
  const local = openLocalDoorDatabase(places.quarantineDir);
  try {
    const counts: DoorTally = new Map();
    let lines = 0;
    let counted = 0;
    const cursor = await readNewLines(logPath, await readCursor(local, logPath), (line) => {
      lines += 1;
      const event = doorEventOf(line, nowMs);
      if (!event) return;
      counted += 1;
      tally(counts, event.day, event.kind);
    });
    if (places.shared) {
      await addDoorCounts(places.shared, counts);
      if (cursor) await writeCursor(local, logPath, cursor);
    } else {
      await local.transaction().execute(async (trx) => {
        await addDoorCounts(doorCountsIn<LocalDoorTables>(trx), counts);
        if (cursor) await writeCursor(trx, logPath, cursor);
      });
    }
    return { lines, counted };
  } finally {
    await local.destroy();
  }
}

/** The pass as the config says: the counts into the shared database when storage.backend is postgresql. */
export async function collectAsConfigured(config: AppConfig, logPath = DEFAULT_MAIL_LOG): Promise<CollectReport> {
  const shared = config.storage.backend === 'postgresql' ? openSharedDatabase(config.storage, 'mailfilter-door-stats', 1) : undefined;
  try {
    return await collectDoorStats({ quarantineDir: config.quarantine.dir, shared: shared && doorCountsIn(shared) }, logPath);
  } finally {
    await shared?.destroy();
  }
}
