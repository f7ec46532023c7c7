// The viewer's own database: users with their addresses (an address belongs to at most one user),
// sessions (only a hash of the cookie is stored), and failed logins for rate limiting.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { hashPassword } from './passwords.js';

export const ADMIN_USER = 'vadmin';
export const INITIAL_ADMIN_PASSWORD = 'password';

export interface ViewerUser {
  id: number;
  username: string;
  /** 'local' accounts have a password here; 'ldap' ones bind to the directory. */
  source: 'local' | 'ldap';
  isAdmin: boolean;
  mustChangePassword: boolean;
  addresses: string[];
}

export interface Session {
  user: ViewerUser;
  csrfToken: string;
}

interface UserRow {
  id: number;
  username: string;
  password_hash: string | null;
  source: 'local' | 'ldap';
  is_admin: number;
  must_change_password: number;
}

const SCHEMA = `
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
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS failed_logins (
  key TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS failed_logins_key ON failed_logins(key, at);
`;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export class AddressTakenError extends Error {
  constructor(readonly address: string, readonly owner: string) {
    super(`${address} already belongs to ${owner}`);
  }
}

export class ViewerAccounts {
  readonly db: Database.Database;

  private constructor(path: string, private readonly sessionMs: number, private readonly sessionMaxMs: number) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // Databases made before sessions had an absolute lifetime: their sessions (created_at 0) end now.
    const columns = (this.db.prepare('PRAGMA table_info(sessions)').all() as Array<{ name: string }>).map((c) => c.name);
    if (!columns.includes('created_at')) this.db.exec('ALTER TABLE sessions ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0');
  }

  /**
   * Opens the database; a new one gets vadmin with the manual's initial password, to be changed.
   * A session ends after `sessionHours` without use, and `sessionMaxHours` after login in any case.
   */
  static async open(dataDir: string, sessionHours: number, sessionMaxHours = 24): Promise<ViewerAccounts> {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const accounts = new ViewerAccounts(join(dataDir, 'viewer.sqlite'), sessionHours * 3600_000, sessionMaxHours * 3600_000);
    if (!accounts.findByName(ADMIN_USER)) {
      accounts.db.prepare("INSERT INTO users (username, password_hash, source, is_admin, must_change_password) VALUES (?, ?, 'local', 1, 1)")
        .run(ADMIN_USER, await hashPassword(INITIAL_ADMIN_PASSWORD));
    }
    return accounts;
  }

  close(): void {
    this.db.close();
  }

  private toUser(row: UserRow): ViewerUser {
    const addresses = (this.db.prepare('SELECT address FROM addresses WHERE user_id = ? ORDER BY address').all(row.id) as Array<{ address: string }>).map((a) => a.address);
    return { id: row.id, username: row.username, source: row.source, isAdmin: row.is_admin === 1, mustChangePassword: row.must_change_password === 1, addresses };
  }

  findByName(username: string): (ViewerUser & { passwordHash: string | null }) | undefined {
    const row = this.db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
    return row ? { ...this.toUser(row), passwordHash: row.password_hash } : undefined;
  }

  /** True while vadmin still has the manual's initial password (no wizard, apply or login changed it). */
  adminPasswordIsInitial(): boolean {
    const row = this.db.prepare('SELECT must_change_password FROM users WHERE username = ?').get(ADMIN_USER) as { must_change_password: number } | undefined;
    return row?.must_change_password === 1;
  }

  get(id: number): ViewerUser | undefined {
    const row = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return row ? this.toUser(row) : undefined;
  }

  /** The user an address belongs to (directory logins by e-mail address). */
  findByAddress(address: string): ViewerUser | undefined {
    const row = this.db.prepare('SELECT u.* FROM users u JOIN addresses a ON a.user_id = u.id WHERE a.address = ?').get(address.toLowerCase()) as UserRow | undefined;
    return row ? this.toUser(row) : undefined;
  }

  list(): ViewerUser[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY is_admin DESC, username').all() as UserRow[]).map((row) => this.toUser(row));
  }

  async create(input: { username: string; password: string; source: 'local'; addresses: string[] }): Promise<ViewerUser> {
    return this.insert(input.username, await hashPassword(input.password), input.source, input.addresses);
  }

  /** A user without a password here (directory accounts), created at once. */
  createSync(input: { username: string; source: 'ldap'; addresses: string[] }): ViewerUser {
    return this.insert(input.username, null, input.source, input.addresses);
  }

  private insert(username: string, passwordHash: string | null, source: 'local' | 'ldap', addresses: string[]): ViewerUser {
    const id = this.db.transaction(() => {
      const result = this.db.prepare('INSERT INTO users (username, password_hash, source) VALUES (?, ?, ?)').run(username, passwordHash, source);
      this.assignAddresses(Number(result.lastInsertRowid), addresses);
      return Number(result.lastInsertRowid);
    })();
    return this.get(id)!;
  }

  /** Removes every user drawn from the directory (directory-sync -c redraws them). */
  deleteBySource(source: 'ldap'): number {
    return this.db.prepare('DELETE FROM users WHERE source = ? AND is_admin = 0').run(source).changes;
  }

  /** Replaces a user's addresses; refuses one that belongs to someone else. */
  setAddresses(userId: number, addresses: string[]): void {
    this.db.transaction(() => this.assignAddresses(userId, addresses))();
  }

  private assignAddresses(userId: number, addresses: string[]): void {
    const wanted = [...new Set(addresses.map((a) => a.trim().toLowerCase()).filter(Boolean))];
    for (const address of wanted) {
      const owner = this.db.prepare('SELECT u.username, u.id FROM addresses a JOIN users u ON u.id = a.user_id WHERE a.address = ?').get(address) as { username: string; id: number } | undefined;
      if (owner && owner.id !== userId) throw new AddressTakenError(address, owner.username);
    }
    this.db.prepare('DELETE FROM addresses WHERE user_id = ?').run(userId);
    const insert = this.db.prepare('INSERT INTO addresses (address, user_id) VALUES (?, ?)');
    for (const address of wanted) insert.run(address, userId);
  }

  async setPassword(userId: number, password: string): Promise<void> {
    this.db.prepare('UPDATE users SET password_hash = ?, must_change_password = 0 WHERE id = ?').run(await hashPassword(password), userId);
  }

  delete(userId: number): void {
    this.db.prepare('DELETE FROM users WHERE id = ? AND is_admin = 0').run(userId);
  }

  createSession(userId: number): { token: string; csrfToken: string } {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const now = Date.now();
    this.db.prepare('DELETE FROM sessions WHERE expires_at < ? OR created_at < ?').run(now, now - this.sessionMaxMs);
    this.db.prepare('INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, created_at) VALUES (?, ?, ?, ?, ?)').run(sha256(token), userId, csrfToken, now + this.sessionMs, now);
    return { token, csrfToken };
  }

  /** The session for a cookie value, extended on use up to its absolute end; undefined when unknown or over. */
  session(token: string | undefined, now = Date.now()): Session | undefined {
    if (!token) return undefined;
    const row = this.db.prepare('SELECT user_id, csrf_token, expires_at, created_at FROM sessions WHERE token_hash = ?').get(sha256(token)) as { user_id: number; csrf_token: string; expires_at: number; created_at: number } | undefined;
    if (!row || row.expires_at < now || row.created_at + this.sessionMaxMs < now) return undefined;
    const user = this.get(row.user_id);
    if (!user) return undefined;
    this.db.prepare('UPDATE sessions SET expires_at = ? WHERE token_hash = ?').run(now + this.sessionMs, sha256(token));
    return { user, csrfToken: row.csrf_token };
  }

  endSession(token: string | undefined): void {
    if (token) this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(sha256(token));
  }

  endSessionsOf(userId: number): void {
    this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId);
  }

  /** When the failed (or still running) password checks under `key` since `since` happened, oldest first. */
  failureTimes(key: string, since: number): number[] {
    return (this.db.prepare('SELECT at FROM failed_logins WHERE key = ? AND at > ? ORDER BY at').all(key, since) as Array<{ at: number }>).map((r) => r.at);
  }

  /** Counts an attempt as failed until told otherwise; the row id undoes it (forgetFailure). */
  recordFailure(key: string, now = Date.now()): number {
    this.db.prepare('DELETE FROM failed_logins WHERE at < ?').run(now - 24 * 3600_000);
    return Number(this.db.prepare('INSERT INTO failed_logins (key, at) VALUES (?, ?)').run(key, now).lastInsertRowid);
  }

  forgetFailure(rowId: number): void {
    this.db.prepare('DELETE FROM failed_logins WHERE rowid = ?').run(rowId);
  }

  clearFailures(key: string): void {
    this.db.prepare('DELETE FROM failed_logins WHERE key = ?').run(key);
  }
}
