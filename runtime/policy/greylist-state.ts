// The greylist's memory (SQLite): when each triplet of client network, sender and recipient was
// first seen and whether its retry came; per client network, how many retries it passed.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Triplet {
  network: string;
  sender: string;
  recipient: string;
}

export type TripletState = { kind: 'new' } | { kind: 'waiting'; secondsLeft: number } | { kind: 'passed'; firstPass: boolean };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS triplets (
  network TEXT NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, passed INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (network, sender, recipient)
);
CREATE INDEX IF NOT EXISTS triplets_last_seen ON triplets(last_seen);
CREATE TABLE IF NOT EXISTS clients (network TEXT PRIMARY KEY, passes INTEGER NOT NULL, last_seen INTEGER NOT NULL);
`;

export class GreylistState {
  private readonly db: Database.Database;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 2000');
    this.db.exec(SCHEMA);
  }

  /** Whether the client network has passed enough retries to be let through unasked. */
  clientAllowed(network: string, autoAllowAfter: number): boolean {
    const row = this.db.prepare<[string], { passes: number }>('SELECT passes FROM clients WHERE network = ?').get(network);
    return row !== undefined && row.passes >= autoAllowAfter;
  }

  /** Looks the triplet up and records this attempt: a new triplet starts its delay now. */
  attempt(triplet: Triplet, delaySeconds: number, nowMs: number): TripletState {
    const { network, sender, recipient } = triplet;
    return this.db
      .transaction((): TripletState => {
        const row = this.db
          .prepare<[string, string, string], { first_seen: number; passed: number }>(
            'SELECT first_seen, passed FROM triplets WHERE network = ? AND sender = ? AND recipient = ?',
          )
          .get(network, sender, recipient);
        if (!row) {
          this.db
            .prepare('INSERT INTO triplets (network, sender, recipient, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)')
            .run(network, sender, recipient, nowMs, nowMs);
          return { kind: 'new' };
        }
        const waited = (nowMs - row.first_seen) / 1000;
        if (!row.passed && waited < delaySeconds) return { kind: 'waiting', secondsLeft: Math.ceil(delaySeconds - waited) };
        this.db
          .prepare('UPDATE triplets SET passed = 1, last_seen = ? WHERE network = ? AND sender = ? AND recipient = ?')
          .run(nowMs, network, sender, recipient);
        if (!row.passed) {
          this.db
            .prepare(
              `INSERT INTO clients (network, passes, last_seen) VALUES (?, 1, ?)
          ON CONFLICT(network) DO UPDATE SET passes = passes + 1, last_seen = excluded.last_seen`,
            )
            .run(network, nowMs);
        } else {
          this.db.prepare('UPDATE clients SET last_seen = ? WHERE network = ?').run(nowMs, network);
        }
        return { kind: 'passed', firstPass: !row.passed };
      })
      .immediate();
  }

  /** Forgets triplets and clients not seen for `expiryDays`; returns how many triplets went. */
  expire(expiryDays: number, nowMs: number): number {
    const before = nowMs - expiryDays * 86_400_000;
    const gone = this.db.prepare('DELETE FROM triplets WHERE last_seen < ?').run(before).changes;
    this.db.prepare('DELETE FROM clients WHERE last_seen < ?').run(before);
    return gone;
  }

  close(): void {
    this.db.close();
  }
}
