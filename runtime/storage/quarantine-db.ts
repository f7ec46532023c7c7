// The quarantine's index, <quarantine.dir>/index.sqlite: its one owner. The tables are declared
// here, in order, and changed only by a new numbered migration; quarantine/store.ts reads and
// writes rows.
import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { addColumnIfMissing, dropColumnIfPresent, openMigrated, type Migration } from './migrate.js';

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
];

/** Opens the index (the quarantine folder exists), and brings its schema up to date. */
export function openQuarantineDatabase(quarantineDir: string): Database.Database {
  // synchronous FULL: a row acknowledged to the filter survives power loss, like the file it points at.
  const pragmas = ['journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON', 'busy_timeout = 5000'];
  return openMigrated(join(quarantineDir, QUARANTINE_DATABASE), pragmas, QUARANTINE_MIGRATIONS);
}
