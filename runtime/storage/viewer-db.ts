// The viewer's database, viewer.sqlite: its one owner. Every table is declared here, in order, and
// changed only by a new numbered migration; the modules that use a table (accounts, lists, audit,
// settings, requests, link tokens) only read and write rows.
import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { addColumnIfMissing, openMigrated, type Migration } from './migrate.js';

export const VIEWER_DATABASE = 'viewer.sqlite';

export const viewerDatabasePath = (viewerDataDir: string) => join(viewerDataDir, VIEWER_DATABASE);

export const VIEWER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: 'the schema of release 8e69476',
    up: (db) =>
      db.exec(`
      -- Users with their addresses (an address belongs to at most one user).
      CREATE TABLE IF NOT EXISTS users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT,
        source TEXT NOT NULL DEFAULT 'local',
        is_admin INTEGER NOT NULL DEFAULT 0,
        must_change_password INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS addresses (
        address TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE
      );
      CREATE INDEX IF NOT EXISTS addresses_user ON addresses(user_id);
      -- Sessions: only a hash of the cookie is stored.
      CREATE TABLE IF NOT EXISTS sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
      -- Password guesses counted by the login limits.
      CREATE TABLE IF NOT EXISTS failed_logins (
        key TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS failed_logins_key ON failed_logins(key, at);
      -- Allow and block lists; owner_id NULL is the global list. The filter reads this table.
      CREATE TABLE IF NOT EXISTS sender_lists (
        id INTEGER PRIMARY KEY,
        owner_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('allow', 'block')),
        pattern TEXT NOT NULL,
        expires_at INTEGER,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS sender_lists_pattern ON sender_lists(pattern);
      -- The audit log, only ever appended to.
      CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        message_id TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '', client TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
      CREATE INDEX IF NOT EXISTS audit_message ON audit(message_id);
      CREATE TABLE IF NOT EXISTS release_requests (
        id INTEGER PRIMARY KEY, message_id TEXT NOT NULL, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        recipients TEXT NOT NULL, requested_at INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
        decided_by TEXT, decided_at INTEGER
      );
      CREATE INDEX IF NOT EXISTS release_requests_status ON release_requests(status);
      -- The administrator's settings by name, and each user's digest choice and last digest.
      CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS digest_state (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        frequency TEXT, last_sent_at INTEGER
      );
      -- Nonces of digest links already used, until the link would have expired anyway.
      CREATE TABLE IF NOT EXISTS used_tokens (nonce TEXT PRIMARY KEY, used_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
    `),
  },
  {
    version: 2,
    what: 'sessions get an absolute lifetime',
    // Sessions from before (created_at 0) end at once.
    up: (db) => addColumnIfMissing(db, 'sessions', 'created_at', 'INTEGER NOT NULL DEFAULT 0'),
  },
];

/** Opens viewer.sqlite, making the folder and the file when missing, and brings its schema up to date. */
export function openViewerDatabase(viewerDataDir: string): Database.Database {
  mkdirSync(viewerDataDir, { recursive: true, mode: 0o700 });
  return openMigrated(viewerDatabasePath(viewerDataDir), ['journal_mode = WAL', 'foreign_keys = ON', 'busy_timeout = 5000'], VIEWER_MIGRATIONS);
}
