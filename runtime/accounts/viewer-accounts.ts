// Viewer accounts in the viewer's database: users with their addresses (an address belongs to at
// most one user), sessions (only a hash of the cookie is stored), and failed logins for rate
// limiting. The database itself (its tables, its other users) is storage/viewer-db.ts's.
import type Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { hashPassword } from './passwords.js';
import { openViewerDatabase } from '../storage/viewer-db.js';

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

interface SessionRow {
  user_id: number;
  csrf_token: string;
  expires_at: number;
  created_at: number;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export class AddressTakenError extends Error {
  constructor(
    readonly address: string,
    readonly owner: string,
  ) {
    super(`${address} already belongs to ${owner}`);
  }
}

export class ViewerAccounts {
  private constructor(
    readonly db: Database.Database,
    private readonly sessionMs: number,
    private readonly sessionMaxMs: number,
  ) {}

  /**
   * Opens the database; a new one gets vadmin with the manual's initial password, to be changed.
   * A session ends after `sessionHours` without use, and `sessionMaxHours` after login in any case.
   */
  static async open(dataDir: string, sessionHours: number, sessionMaxHours = 24): Promise<ViewerAccounts> {
    const accounts = new ViewerAccounts(openViewerDatabase(dataDir), sessionHours * 3600_000, sessionMaxHours * 3600_000);
    if (!accounts.findByName(ADMIN_USER)) {
      accounts.db
        .prepare("INSERT INTO users (username, password_hash, source, is_admin, must_change_password) VALUES (?, ?, 'local', 1, 1)")
        .run(ADMIN_USER, await hashPassword(INITIAL_ADMIN_PASSWORD));
    }
    return accounts;
  }

  close(): void {
    this.db.close();
  }

  private toUser(row: UserRow): ViewerUser {
    const addresses = this.db
      .prepare<[number], { address: string }>('SELECT address FROM addresses WHERE user_id = ? ORDER BY address')
      .all(row.id)
      .map((a) => a.address);
    return {
      id: row.id,
      username: row.username,
      source: row.source,
      isAdmin: row.is_admin === 1,
      mustChangePassword: row.must_change_password === 1,
      addresses,
    };
  }

  findByName(username: string): (ViewerUser & { passwordHash: string | null }) | undefined {
    const row = this.db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?').get(username);
    return row ? { ...this.toUser(row), passwordHash: row.password_hash } : undefined;
  }

  /** True while vadmin still has the manual's initial password (no wizard, apply or login changed it). */
  adminPasswordIsInitial(): boolean {
    const row = this.db.prepare<[string], { must_change_password: number }>('SELECT must_change_password FROM users WHERE username = ?').get(ADMIN_USER);
    return row?.must_change_password === 1;
  }

  get(id: number): ViewerUser | undefined {
    const row = this.db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?').get(id);
    return row ? this.toUser(row) : undefined;
  }

  /** The user an address belongs to (directory logins by e-mail address). */
  findByAddress(address: string): ViewerUser | undefined {
    const row = this.db
      .prepare<[string], UserRow>('SELECT u.* FROM users u JOIN addresses a ON a.user_id = u.id WHERE a.address = ?')
      .get(address.toLowerCase());
    return row ? this.toUser(row) : undefined;
  }

  list(): ViewerUser[] {
    return this.db
      .prepare<[], UserRow>('SELECT * FROM users ORDER BY is_admin DESC, username')
      .all()
      .map((row) => this.toUser(row));
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
      const owner = this.db
        .prepare<[string], { username: string; id: number }>('SELECT u.username, u.id FROM addresses a JOIN users u ON u.id = a.user_id WHERE a.address = ?')
        .get(address);
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
    this.db
      .prepare('INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(sha256(token), userId, csrfToken, now + this.sessionMs, now);
    return { token, csrfToken };
  }

  /** The session for a cookie value, extended on use up to its absolute end; undefined when unknown or over. */
  session(token: string | undefined, now = Date.now()): Session | undefined {
    if (!token) return undefined;
    const row = this.db
      .prepare<[string], SessionRow>('SELECT user_id, csrf_token, expires_at, created_at FROM sessions WHERE token_hash = ?')
      .get(sha256(token));
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
    return this.db
      .prepare<[string, number], { at: number }>('SELECT at FROM failed_logins WHERE key = ? AND at > ? ORDER BY at')
      .all(key, since)
      .map((r) => r.at);
  }

  /** Counts an attempt as failed until told otherwise; the row id undoes it (forgetFailure). */
  recordFailure(key: string, now = Date.now()): number {
    this.db.prepare('DELETE FROM failed_logins WHERE at < ?').run(now - 24 * 3600_000);
    return Number(this.db.prepare('INSERT INTO failed_logins (key, at) VALUES (?, ?)').run(key, now).lastInsertRowid);
  }

  forgetFailure(rowId: number): void {
    this.db.prepare('DELETE FROM failed_logins WHERE id = ?').run(rowId);
  }

  clearFailures(key: string): void {
    this.db.prepare('DELETE FROM failed_logins WHERE key = ?').run(key);
  }
}
