// The fetcher's record of each mailbox's messages, <fetch.stateDir>/seen.sqlite: its one owner. The
// tables are declared here, in order, and changed only by a new numbered migration (the file's
// user_version counts them, as it always has); fetch/seen-state.ts reads and writes rows. Several
// appliances keep the same tables in the shared database (shared-schema.ts, 0006-fetch), so a node
// that takes a mailbox over knows what the one before it already fetched.
import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openMigrated, type Migration } from './migrate.js';

/** The tables as the seen-state queries them, the same in the file and the shared database. */
export interface FetchTables {
  /** Messages that have their outcome (delivered, or kept as refused): never fetched again. */
  seen: { account: string; uid: string; fetched_at: number };
  /** streak: polls in a row that tried the message and failed; set_aside_at: no more tries. */
  failures: {
    account: string;
    uid: string;
    streak: number;
    last_error: string;
    first_failed_at: number;
    last_failed_at: number;
    set_aside_at: number | null;
  };
}

export const FETCH_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: 'what was fetched',
    up: (db) => db.exec('CREATE TABLE IF NOT EXISTS seen (account TEXT NOT NULL, uid TEXT NOT NULL, fetched_at INTEGER NOT NULL, PRIMARY KEY (account, uid))'),
  },
  {
    version: 2,
    what: 'failures and set-aside messages',
    up: (db) =>
      db.exec(`CREATE TABLE IF NOT EXISTS failures (account TEXT NOT NULL, uid TEXT NOT NULL, streak INTEGER NOT NULL, last_error TEXT NOT NULL,
     first_failed_at INTEGER NOT NULL, last_failed_at INTEGER NOT NULL, set_aside_at INTEGER, PRIMARY KEY (account, uid))`),
  },
];

export function seenStatePath(stateDir: string): string {
  return join(stateDir, 'seen.sqlite');
}

/** Opens the file (its folder made, the fetcher's alone), and brings its schema up to date. */
export function openFetchDatabase(path: string): Database.Database {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // synchronous FULL: a record that let a delete on the server happen must survive power loss.
  return openMigrated(path, ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 5000'], FETCH_MIGRATIONS);
}
