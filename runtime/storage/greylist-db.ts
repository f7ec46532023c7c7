// The greylisting state of one appliance, greylist.stateFile (SQLite): its one owner. The same
// tables live in the shared PostgreSQL (shared-schema.ts, 0005-greylist) when several appliances
// greylist together; policy/greylist-state.ts reads and writes rows.
import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { openMigrated, type Migration } from './migrate.js';

/** The tables as the state queries them, here and in the shared database: times in milliseconds. */
export interface GreylistTables {
  greylist_triplets: {
    network: string;
    sender: string;
    recipient: string;
    first_seen: number;
    last_seen: number;
    /** 1 once the triplet retried after its delay. */
    passed: number;
  };
  /** Per client network, how many triplets passed their retry (auto-allow). */
  greylist_clients: { network: string; passes: number; last_seen: number };
}

export const GREYLIST_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: 'the schema of the first greylisting release',
    up: (db) =>
      db.exec(`
      CREATE TABLE IF NOT EXISTS triplets (
        network TEXT NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,
        first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, passed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (network, sender, recipient)
      );
      CREATE INDEX IF NOT EXISTS triplets_last_seen ON triplets(last_seen);
      CREATE TABLE IF NOT EXISTS clients (network TEXT PRIMARY KEY, passes INTEGER NOT NULL, last_seen INTEGER NOT NULL);
    `),
  },
  {
    version: 2,
    what: 'the tables named for greylisting, as in the shared database',
    // Renamed, rows kept: an appliance upgraded mid-delay still lets its senders' retries through.
    up: (db) =>
      db.exec(`
      ALTER TABLE triplets RENAME TO greylist_triplets;
      ALTER TABLE clients RENAME TO greylist_clients;
      DROP INDEX IF EXISTS triplets_last_seen;
      CREATE INDEX greylist_triplets_last_seen ON greylist_triplets(last_seen);
    `),
  },
];

/** Opens the state file, making its folder when missing, and brings its schema up to date. */
export function openGreylistDatabase(path: string): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  return openMigrated(path, ['journal_mode = WAL', 'busy_timeout = 2000'], GREYLIST_MIGRATIONS);
}
