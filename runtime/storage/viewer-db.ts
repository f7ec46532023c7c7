// The viewer's database, viewer.sqlite: its one owner. Every table is declared here, in order, and
// changed only by a new numbered migration; the modules that use a table (accounts, lists, audit,
// settings, requests, link tokens) only read and write rows.
import type Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Generated } from 'kysely';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { addColumnIfMissing, openMigrated, type Migration } from './migrate.js';

/**
 * The tables as the stores query them through Kysely, the same in viewer.sqlite and in the shared
 * PostgreSQL (shared-schema.ts declares them there): times are milliseconds since the epoch,
 * flags are 0 or 1. `Generated` columns are filled by the database on insert.
 */
export interface ViewerTables {
  /** User names are unique without regard to case (NOCASE here, lower(username) there). */
  users: {
    id: Generated<number>;
    username: string;
    password_hash: string | null;
    source: 'local' | 'ldap';
    is_admin: Generated<number>;
    must_change_password: Generated<number>;
  };
  /** An address belongs to at most one user; stored lower-case. */
  addresses: { address: string; user_id: number };
  /** Only a hash of the cookie is stored. */
  sessions: { token_hash: string; user_id: number; csrf_token: string; expires_at: number; created_at: number };
  failed_logins: { id: Generated<number>; key: string; at: number };
  /** owner_id null is the global list; one entry per list and pattern. The filter reads this table. */
  sender_lists: {
    id: Generated<number>;
    owner_id: number | null;
    kind: 'allow' | 'block';
    pattern: string;
    expires_at: number | null;
    created_by: string;
    created_at: number;
  };
  /** Only ever appended to. */
  audit: { id: Generated<number>; at: number; actor: string; action: string; message_id: string; detail: string; client: string };
  release_requests: {
    id: Generated<number>;
    message_id: string;
    user_id: number;
    /** The recipients asked for, as JSON. */
    recipients: string;
    requested_at: number;
    status: Generated<string>;
    decided_by: string | null;
    decided_at: number | null;
  };
  settings: { name: string; value: string };
  digest_state: { user_id: number; frequency: string | null; last_sent_at: number | null };
  used_tokens: { nonce: string; used_at: number; expires_at: number };
}

/** The handle the viewer's stores query through, on either backend. */
export type ViewerDatabase = Kysely<ViewerTables>;

export const VIEWER_DATABASE = 'viewer.sqlite';

export const viewerDatabasePath = (viewerDataDir: string) => join(viewerDataDir, VIEWER_DATABASE);

/**
 * One sender list entry per list and pattern: viewer.sqlite's migration 4 and the shared database's
 * 0007-sender-lists-unique, so never edited. Two viewers (or nodes) adding one entry at the same
 * instant made two rows. Of duplicates the newest row stays (created_at, then id), whatever the
 * kinds: an add replaces the entry for its pattern (SenderLists.add), so the newest is the decision
 * made last, the one the adds would have left had they come one after the other. The global list's
 * owner_id NULL counts as 0, which no user's id is (NULLs never equal each other in an index).
 */
export const ONE_ENTRY_PER_PATTERN: readonly string[] = [
  `DELETE FROM sender_lists WHERE EXISTS (
     SELECT 1 FROM sender_lists newer
     WHERE coalesce(newer.owner_id, 0) = coalesce(sender_lists.owner_id, 0) AND newer.pattern = sender_lists.pattern
       AND (newer.created_at > sender_lists.created_at OR (newer.created_at = sender_lists.created_at AND newer.id > sender_lists.id)))`,
  'CREATE UNIQUE INDEX IF NOT EXISTS sender_lists_owner_pattern ON sender_lists (coalesce(owner_id, 0), pattern)',
];

/** That index's key as an ON CONFLICT target: writes name it so that either database finds the index. */
export const LIST_AND_PATTERN = sql`coalesce(owner_id, 0), pattern`;

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
  {
    version: 3,
    what: 'failed logins get an id column',
    // They were undone by SQLite's rowid, which PostgreSQL has no like of; one query for both
    // backends needs a real column. The rows (a day of password guesses) are carried over.
    up: (db) =>
      db.exec(`
      CREATE TABLE failed_logins_new (id INTEGER PRIMARY KEY, key TEXT NOT NULL, at INTEGER NOT NULL);
      INSERT INTO failed_logins_new (key, at) SELECT key, at FROM failed_logins ORDER BY rowid;
      DROP TABLE failed_logins;
      ALTER TABLE failed_logins_new RENAME TO failed_logins;
      CREATE INDEX failed_logins_key ON failed_logins(key, at);
    `),
  },
  {
    version: 4,
    what: 'one sender list entry per list and pattern',
    up: (db) => {
      for (const statement of ONE_ENTRY_PER_PATTERN) db.exec(statement);
    },
  },
];

/** Opens viewer.sqlite, making the folder and the file when missing, and brings its schema up to date. */
export function openViewerDatabase(viewerDataDir: string): Database.Database {
  mkdirSync(viewerDataDir, { recursive: true, mode: 0o700 });
  return openMigrated(viewerDatabasePath(viewerDataDir), ['journal_mode = WAL', 'foreign_keys = ON', 'busy_timeout = 5000'], VIEWER_MIGRATIONS);
}

/** Kysely over an open viewer.sqlite (the same connection: its synchronous users see the same rows). */
export function viewerKysely(db: Database.Database): ViewerDatabase {
  return new Kysely<ViewerTables>({ dialect: new SqliteDialect({ database: db }) });
}
