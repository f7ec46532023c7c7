// The filter's view of the sender lists: the viewer's database, once it exists, only read from.
// A database that cannot be read means "no list entry", logged: the spam, virus and banned checks
// still decide, so mail is neither lost nor waved through unchecked.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type { Logger } from '../log.js';
import { findMatch, type ListMatch } from './sender-lists.js';
import { viewerDatabasePath } from '../storage/viewer-db.js';

export type SenderListLookup = (recipient: string, senders: string[]) => ListMatch | null;

export function openSenderListLookup(viewerDataDir: string, log: Logger): SenderListLookup & { close(): void } {
  const path = viewerDatabasePath(viewerDataDir);
  let db: Database.Database | null = null;
  let warned = false;
  let missingUntil = 0;
  const lookup = (recipient: string, senders: string[]): ListMatch | null => {
    try {
      if (!db) {
        // No viewer database yet (viewer off, or not started): looked for again every 10 s, not per message.
        if (Date.now() < missingUntil) return null;
        if (!existsSync(path)) {
          missingUntil = Date.now() + 10_000;
          return null;
        }
        // Not opened read-only: with the viewer stopped, SQLite has removed its WAL files, and a
        // read-only connection could not make them again.
        db = new Database(path, { fileMustExist: true });
        db.pragma('busy_timeout = 2000');
      }
      const match = findMatch(db, recipient, senders);
      warned = false;
      return match;
    } catch (err) {
      // "no such table": a viewer database from before the lists; anything else is worth a line.
      if (!warned) log.warn('sender lists not consulted', { database: path, error: (err as Error).message });
      warned = true;
      return null;
    }
  };
  return Object.assign(lookup, {
    close() {
      db?.close();
      db = null;
    },
  });
}
