// Messages the fetcher gave up on after failing on them several polls in a row (the server would
// not send them, or Postfix kept deferring them while it took others). They stay on the server,
// untouched, and are not tried again. This is what `mailfilter status` and the console are meant
// to show; it reads the fetcher's state folder and needs no running fetcher.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FetchTables } from '../storage/fetch-db.js';
import type { SetAsideMessage } from './seen-state.js';

export type { SetAsideMessage } from './seen-state.js';

export function seenStatePath(stateDir: string): string {
  return join(stateDir, 'seen.sqlite');
}

/** Set-aside messages of every mailbox, newest first; none when the fetcher never ran. */
export function listSetAside(stateDir: string): SetAsideMessage[] {
  const path = seenStatePath(stateDir);
  if (!existsSync(path)) return [];
  // Read-write although it only reads: with the fetcher stopped the WAL files are gone, and a
  // read-only connection cannot make them.
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'failures'").get();
    if (!hasTable) return [];
    const rows = db.prepare('SELECT * FROM failures WHERE set_aside_at IS NOT NULL ORDER BY set_aside_at DESC').all() as Array<FetchTables['failures']>;
    return rows.map((row) => ({
      account: row.account,
      uid: row.uid,
      streak: row.streak,
      lastError: row.last_error,
      firstFailedAt: row.first_failed_at,
      lastFailedAt: row.last_failed_at,
      setAsideAt: row.set_aside_at!,
    }));
  } finally {
    db.close();
  }
}
