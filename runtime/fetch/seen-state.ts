// What became of each message of each mailbox (POP3 UIDL, IMAP UIDVALIDITY:UID), in SQLite, across
// restarts. A message is recorded as seen right after Postfix's 250 (or after its quarantine copy),
// before it is deleted on the server. Nothing is deleted that is not recorded, so a crash can cost
// a duplicate, never a loss: a kill between Postfix's 250 and this write (a few milliseconds) makes
// the next poll fetch the message again; a kill after it only delays the delete to the next poll.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** Numbered, applied in order once each; PRAGMA user_version holds how many ran. */
const MIGRATIONS = [
  'CREATE TABLE IF NOT EXISTS seen (account TEXT NOT NULL, uid TEXT NOT NULL, fetched_at INTEGER NOT NULL, PRIMARY KEY (account, uid))',
  // streak: polls in a row that tried the message and failed; set_aside_at: no more tries.
  `CREATE TABLE failures (account TEXT NOT NULL, uid TEXT NOT NULL, streak INTEGER NOT NULL, last_error TEXT NOT NULL,
     first_failed_at INTEGER NOT NULL, last_failed_at INTEGER NOT NULL, set_aside_at INTEGER, PRIMARY KEY (account, uid))`,
];

export type MessageState = 'new' | 'seen' | 'set-aside';

export interface FailureRow {
  account: string;
  uid: string;
  streak: number;
  lastError: string;
  firstFailedAt: number;
  lastFailedAt: number;
  setAsideAt: number | null;
}

export function migrate(db: Database.Database): void {
  const applied = db.pragma('user_version', { simple: true }) as number;
  for (let version = applied; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

export class SeenState {
  private readonly db: Database.Database;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a record that let a delete happen must survive power loss.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
  }

  state(account: string, uid: string): MessageState {
    if (this.db.prepare('SELECT 1 FROM seen WHERE account = ? AND uid = ?').get(account, uid)) return 'seen';
    const failure = this.db.prepare('SELECT set_aside_at FROM failures WHERE account = ? AND uid = ?').get(account, uid) as
      { set_aside_at: number | null } | undefined;
    return failure?.set_aside_at ? 'set-aside' : 'new';
  }

  /** The message has its outcome (delivered or quarantined): seen, and its failures forgotten. */
  record(account: string, uid: string): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO seen (account, uid, fetched_at) VALUES (?, ?, ?)').run(account, uid, Date.now());
      this.db.prepare('DELETE FROM failures WHERE account = ? AND uid = ?').run(account, uid);
    })();
  }

  /** One more poll that failed on this message; sets it aside at `setAsideAfter`. Returns the row. */
  recordFailure(account: string, uid: string, error: string, setAsideAfter: number): FailureRow {
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO failures (account, uid, streak, last_error, first_failed_at, last_failed_at) VALUES (?, ?, 1, ?, ?, ?)
                ON CONFLICT(account, uid) DO UPDATE SET streak = streak + 1, last_error = excluded.last_error, last_failed_at = excluded.last_failed_at`,
      )
      .run(account, uid, error, now, now);
    this.db
      .prepare('UPDATE failures SET set_aside_at = ? WHERE account = ? AND uid = ? AND streak >= ? AND set_aside_at IS NULL')
      .run(now, account, uid, setAsideAfter);
    return toFailure(this.db.prepare('SELECT * FROM failures WHERE account = ? AND uid = ?').get(account, uid) as FailureDbRow);
  }

  /** Forgets ids the server no longer has, so the tables do not grow forever. */
  prune(account: string, present: Set<string>): void {
    this.db.transaction(() => {
      for (const table of ['seen', 'failures']) {
        const rows = this.db.prepare(`SELECT uid FROM ${table} WHERE account = ?`).all(account) as Array<{ uid: string }>;
        const remove = this.db.prepare(`DELETE FROM ${table} WHERE account = ? AND uid = ?`);
        for (const { uid } of rows) if (!present.has(uid)) remove.run(account, uid);
      }
    })();
  }

  close(): void {
    this.db.close();
  }
}

export interface FailureDbRow {
  account: string;
  uid: string;
  streak: number;
  last_error: string;
  first_failed_at: number;
  last_failed_at: number;
  set_aside_at: number | null;
}

export function toFailure(row: FailureDbRow): FailureRow {
  return {
    account: row.account,
    uid: row.uid,
    streak: row.streak,
    lastError: row.last_error,
    firstFailedAt: row.first_failed_at,
    lastFailedAt: row.last_failed_at,
    setAsideAt: row.set_aside_at,
  };
}
