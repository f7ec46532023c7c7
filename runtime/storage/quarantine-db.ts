// The quarantine's index, <quarantine.dir>/index.sqlite: its one owner. The tables are declared
// here, in order, and changed only by a new numbered migration; quarantine/store.ts reads and
// writes rows.
import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { addColumnIfMissing, dropColumnIfPresent, openMigrated, type Migration } from './migrate.js';

/**
 * The index's tables as the store queries them, the same in this file and in the shared
 * PostgreSQL (shared-schema.ts declares them there): times are milliseconds since the epoch.
 */
export interface QuarantineTables {
  messages: {
    id: string;
    received_at: number;
    mail_from: string;
    header_from: string;
    header_to: string;
    subject: string;
    reason: string;
    detail: string;
    /** The spam score, when the deciding check had one (for sorting). */
    score: number | null;
    size: number;
    /** The message file, relative to the quarantine folder; '' when the body is in the database. */
    path: string;
  };
  recipients: {
    message_id: string;
    address: string;
    released_at: number | null;
    released_by: string | null;
  };
  daily_outcomes: { day: string; outcome: string; count: number };
  door_daily: { day: string; kind: string; count: number };
}

/** The spam score kept in a detail ("score=12.3 required=5"), as the filter writes it. */
export function scoreInDetail(detail: string): number | null {
  const match = /score=(-?\d+(?:\.\d+)?)/.exec(detail);
  return match ? Number(match[1]) : null;
}

export const QUARANTINE_DATABASE = 'index.sqlite';

export const QUARANTINE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: 'the schema of release 8e69476',
    up: (db) =>
      db.exec(`
      -- One row per message file; path is relative to the quarantine folder.
      CREATE TABLE IF NOT EXISTS messages (
        id TEXT PRIMARY KEY,
        received_at INTEGER NOT NULL,
        mail_from TEXT NOT NULL,
        header_from TEXT NOT NULL,
        header_to TEXT NOT NULL,
        subject TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        size INTEGER NOT NULL,
        path TEXT NOT NULL,
        released_at INTEGER,
        released_by TEXT
      );
      CREATE INDEX IF NOT EXISTS messages_received ON messages(received_at);
      CREATE TABLE IF NOT EXISTS recipients (
        message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        address TEXT NOT NULL,
        PRIMARY KEY (message_id, address)
      );
      CREATE INDEX IF NOT EXISTS recipients_address ON recipients(address);
      -- The statistics: messages filtered per day and outcome.
      CREATE TABLE IF NOT EXISTS daily_outcomes (
        day TEXT NOT NULL,
        outcome TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (day, outcome)
      );
    `),
  },
  {
    version: 2,
    what: 'release state per recipient',
    up: (db) => {
      addColumnIfMissing(db, 'recipients', 'released_at', 'INTEGER');
      addColumnIfMissing(db, 'recipients', 'released_by', 'TEXT');
    },
  },
  {
    version: 3,
    what: 'the per-message release marks go',
    // Read by nothing since 2, and not copied there: they never said for whom, and showing a
    // message as waiting is safer than hiding it from a recipient who never got it.
    up: (db) => {
      dropColumnIfPresent(db, 'messages', 'released_at');
      dropColumnIfPresent(db, 'messages', 'released_by');
    },
  },
  {
    version: 4,
    what: 'what the door refused per day, and how far the collector read the mail log',
    up: (db) =>
      db.exec(`
      -- Counted by door-stats from Postfix's log, and by the greylisting service from its answers.
      CREATE TABLE IF NOT EXISTS door_daily (
        day TEXT NOT NULL,
        kind TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (day, kind)
      );
      -- Where door-stats stopped: the log's inode tells a rotated file from the one it read.
      CREATE TABLE IF NOT EXISTS door_log_cursor (
        log_path TEXT PRIMARY KEY,
        inode INTEGER NOT NULL,
        offset INTEGER NOT NULL
      );
    `),
  },
  {
    version: 5,
    what: 'the spam score gets a column of its own',
    // Sorting by score read it out of the detail with SQLite's lenient CAST; a column sorts the
    // same on every database. Rows from before get it from their detail, as the sort found it.
    up: (db) => {
      addColumnIfMissing(db, 'messages', 'score', 'REAL');
      const rows = db.prepare<[], { id: string; detail: string }>("SELECT id, detail FROM messages WHERE score IS NULL AND detail LIKE '%score=%'").all();
      const setScore = db.prepare('UPDATE messages SET score = ? WHERE id = ?');
      for (const row of rows) setScore.run(scoreInDetail(row.detail), row.id);
    },
  },
];

/** Opens the index (the quarantine folder exists), and brings its schema up to date. */
export function openQuarantineDatabase(quarantineDir: string): Database.Database {
  // synchronous FULL: a row acknowledged to the filter survives power loss, like the file it points at.
  const pragmas = ['journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON', 'busy_timeout = 5000'];
  return openMigrated(join(quarantineDir, QUARANTINE_DATABASE), pragmas, QUARANTINE_MIGRATIONS);
}
