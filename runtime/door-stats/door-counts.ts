// The door's per-day counts in the quarantine index (door_daily, migration 4), beside the
// message outcomes the console's chart already reads; and the collector's place in the log.
import type Database from 'better-sqlite3';
import type { DoorKind } from './door-kinds.js';
import type { LogCursor } from './log-reader.js';

/** "day|kind" -> count. */
export type DoorTally = Map<string, number>;

export function tally(counts: DoorTally, day: string, kind: DoorKind, n = 1): void {
  const key = `${day}|${kind}`;
  counts.set(key, (counts.get(key) ?? 0) + n);
}

export function addDoorCounts(db: Database.Database, counts: DoorTally): void {
  const upsert = db.prepare('INSERT INTO door_daily (day, kind, count) VALUES (?, ?, ?) ON CONFLICT(day, kind) DO UPDATE SET count = count + excluded.count');
  for (const [key, count] of counts) {
    const [day, kind] = key.split('|');
    upsert.run(day, kind, count);
  }
}

export function readCursor(db: Database.Database, logPath: string): LogCursor | undefined {
  return db.prepare<[string], LogCursor>('SELECT inode, offset FROM door_log_cursor WHERE log_path = ?').get(logPath);
}

export function writeCursor(db: Database.Database, logPath: string, cursor: LogCursor): void {
  db.prepare(
    'INSERT INTO door_log_cursor (log_path, inode, offset) VALUES (?, ?, ?) ON CONFLICT(log_path) DO UPDATE SET inode = excluded.inode, offset = excluded.offset',
  ).run(logPath, cursor.inode, cursor.offset);
}
