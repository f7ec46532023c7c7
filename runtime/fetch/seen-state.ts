// What was already fetched from each mailbox (POP3 UIDL, IMAP UIDVALIDITY:UID), in SQLite, so a
// message is never fetched twice, across restarts. A message is recorded the moment Postfix has
// accepted it, before it is deleted on the server: a crash in between costs a delete, not a copy.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export class SeenState {
  private readonly db: Database.Database;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS seen (account TEXT NOT NULL, uid TEXT NOT NULL, fetched_at INTEGER NOT NULL, PRIMARY KEY (account, uid))');
  }

  has(account: string, uid: string): boolean {
    return this.db.prepare('SELECT 1 FROM seen WHERE account = ? AND uid = ?').get(account, uid) !== undefined;
  }

  record(account: string, uid: string): void {
    this.db.prepare('INSERT OR IGNORE INTO seen (account, uid, fetched_at) VALUES (?, ?, ?)').run(account, uid, Date.now());
  }

  /** Forgets ids the server no longer has, so the table does not grow forever. */
  prune(account: string, present: Set<string>): void {
    const rows = this.db.prepare('SELECT uid FROM seen WHERE account = ?').all(account) as Array<{ uid: string }>;
    const remove = this.db.prepare('DELETE FROM seen WHERE account = ? AND uid = ?');
    this.db.transaction(() => {
      for (const { uid } of rows) if (!present.has(uid)) remove.run(account, uid);
    })();
  }

  close(): void {
    this.db.close();
  }
}
