// Viewer accounts in the viewer's database: users with their addresses (an address belongs to at
// most one user), sessions (only a hash of the cookie is stored), and failed logins for rate
// limiting. The same queries for one appliance's viewer.sqlite and for the PostgreSQL several
// appliances share (storage/open-viewer.ts), so a login made on one node holds on all of them.
// The tables themselves are storage/viewer-db.ts's and shared-schema.ts's.
import { createHash, randomBytes } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import { hashPassword } from './passwords.js';
import type { ViewerDatabase, ViewerTables } from '../storage/viewer-db.js';

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

type UserRow = Selectable<ViewerTables['users']>;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** Failed logins older than this are forgotten: the longest limit looks back an hour. */
const FAILURE_MEMORY_MS = 24 * 3600_000;

/**
 * User names are compared without regard to case on both backends: lower() on each side, so each
 * database folds case its own way and agrees with its own unique index (NOCASE, lower(username)).
 */
const sameName = (username: string) => sql<boolean>`lower(username) = lower(${username})`;

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
    readonly db: ViewerDatabase,
    private readonly sessionMs: number,
    private readonly sessionMaxMs: number,
  ) {}

  /**
   * The accounts in an open viewer database, without touching it yet. A session ends after
   * `sessionHours` without use, and `sessionMaxHours` after login in any case. The database stays
   * its opener's to close.
   */
  static on(db: ViewerDatabase, sessionHours: number, sessionMaxHours = 24): ViewerAccounts {
    return new ViewerAccounts(db, sessionHours * 3600_000, sessionMaxHours * 3600_000);
  }

  /** As on(), and a new database gets its administrator (ensureAdmin). */
  static async open(db: ViewerDatabase, sessionHours: number, sessionMaxHours = 24): Promise<ViewerAccounts> {
    const accounts = ViewerAccounts.on(db, sessionHours, sessionMaxHours);
    await accounts.ensureAdmin();
    return accounts;
  }

  /** A new database gets vadmin with the manual's initial password, to be changed. */
  async ensureAdmin(): Promise<void> {
    if (await this.findByName(ADMIN_USER)) return;
    // Two nodes opening a new shared database at once: the second insert finds the name taken.
    await this.db
      .insertInto('users')
      .values({ username: ADMIN_USER, password_hash: await hashPassword(INITIAL_ADMIN_PASSWORD), source: 'local', is_admin: 1, must_change_password: 1 })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  private async toUser(row: UserRow): Promise<ViewerUser> {
    const addresses = await this.db.selectFrom('addresses').select('address').where('user_id', '=', row.id).orderBy('address').execute();
    return {
      id: row.id,
      username: row.username,
      source: row.source,
      isAdmin: row.is_admin === 1,
      mustChangePassword: row.must_change_password === 1,
      addresses: addresses.map((a) => a.address),
    };
  }

  async findByName(username: string): Promise<(ViewerUser & { passwordHash: string | null }) | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where(sameName(username)).executeTakeFirst();
    return row ? { ...(await this.toUser(row)), passwordHash: row.password_hash } : undefined;
  }

  /** True while vadmin still has the manual's initial password (no wizard, apply or login changed it). */
  async adminPasswordIsInitial(): Promise<boolean> {
    const row = await this.db.selectFrom('users').select('must_change_password').where(sameName(ADMIN_USER)).executeTakeFirst();
    return row?.must_change_password === 1;
  }

  async get(id: number): Promise<ViewerUser | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? this.toUser(row) : undefined;
  }

  /** The user an address belongs to (directory logins by e-mail address). */
  async findByAddress(address: string): Promise<ViewerUser | undefined> {
    const row = await this.db
      .selectFrom('users')
      .innerJoin('addresses', 'addresses.user_id', 'users.id')
      .selectAll('users')
      .where('addresses.address', '=', address.toLowerCase())
      .executeTakeFirst();
    return row ? this.toUser(row) : undefined;
  }

  async list(): Promise<ViewerUser[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('is_admin', 'desc').orderBy('username').execute();
    return Promise.all(rows.map((row) => this.toUser(row)));
  }

  async create(input: { username: string; password: string; source: 'local'; addresses: string[] }): Promise<ViewerUser> {
    return this.insert(input.username, await hashPassword(input.password), input.source, input.addresses);
  }

  /** A user without a password here: a directory account, made by the sync or at its first login. */
  async createDirectoryUser(input: { username: string; addresses: string[] }): Promise<ViewerUser> {
    return this.insert(input.username, null, 'ldap', input.addresses);
  }

  private async insert(username: string, passwordHash: string | null, source: 'local' | 'ldap', addresses: string[]): Promise<ViewerUser> {
    const id = await this.db.transaction().execute(async (trx) => {
      const { id } = await trx.insertInto('users').values({ username, password_hash: passwordHash, source }).returning('id').executeTakeFirstOrThrow();
      await assignAddresses(trx, id, addresses);
      return id;
    });
    return (await this.get(id))!;
  }

  /** Removes every user drawn from the directory (directory-sync -c redraws them). */
  async deleteBySource(source: 'ldap'): Promise<number> {
    const result = await this.db.deleteFrom('users').where('source', '=', source).where('is_admin', '=', 0).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Replaces a user's addresses; refuses one that belongs to someone else. */
  async setAddresses(userId: number, addresses: string[]): Promise<void> {
    await this.db.transaction().execute((trx) => assignAddresses(trx, userId, addresses));
  }

  async setPassword(userId: number, password: string): Promise<void> {
    const hash = await hashPassword(password);
    await this.db.updateTable('users').set({ password_hash: hash, must_change_password: 0 }).where('id', '=', userId).execute();
  }

  async delete(userId: number): Promise<void> {
    await this.db.deleteFrom('users').where('id', '=', userId).where('is_admin', '=', 0).execute();
  }

  async createSession(userId: number): Promise<{ token: string; csrfToken: string }> {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const now = Date.now();
    await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<', now), eb('created_at', '<', now - this.sessionMaxMs)]))
      .execute();
    await this.db
      .insertInto('sessions')
      .values({ token_hash: sha256(token), user_id: userId, csrf_token: csrfToken, expires_at: now + this.sessionMs, created_at: now })
      .execute();
    return { token, csrfToken };
  }

  /** The session for a cookie value, extended on use up to its absolute end; undefined when unknown or over. */
  async session(token: string | undefined, now = Date.now()): Promise<Session | undefined> {
    if (!token) return undefined;
    const tokenHash = sha256(token);
    const row = await this.db
      .selectFrom('sessions')
      .select(['user_id', 'csrf_token', 'expires_at', 'created_at'])
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row || row.expires_at < now || row.created_at + this.sessionMaxMs < now) return undefined;
    const user = await this.get(row.user_id);
    if (!user) return undefined;
    await this.db
      .updateTable('sessions')
      .set({ expires_at: now + this.sessionMs })
      .where('token_hash', '=', tokenHash)
      .execute();
    return { user, csrfToken: row.csrf_token };
  }

  async endSession(token: string | undefined): Promise<void> {
    if (token) await this.db.deleteFrom('sessions').where('token_hash', '=', sha256(token)).execute();
  }

  async endSessionsOf(userId: number): Promise<void> {
    await this.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
  }

  /**
   * When the failed (or still running) password checks under `key` since `since` happened, oldest
   * first; with `before` (a recordFailure id) only those counted before that one.
   */
  async failureTimes(key: string, since: number, before?: number): Promise<number[]> {
    let query = this.db.selectFrom('failed_logins').select('at').where('key', '=', key).where('at', '>', since);
    if (before !== undefined) query = query.where('id', '<', before);
    const rows = await query.orderBy('at').orderBy('id').execute();
    return rows.map((r) => r.at);
  }

  /** Counts an attempt as failed until told otherwise; the row id undoes it (forgetFailure). */
  async recordFailure(key: string, now = Date.now()): Promise<number> {
    await this.db
      .deleteFrom('failed_logins')
      .where('at', '<', now - FAILURE_MEMORY_MS)
      .execute();
    const { id } = await this.db.insertInto('failed_logins').values({ key, at: now }).returning('id').executeTakeFirstOrThrow();
    return id;
  }

  async forgetFailure(rowId: number): Promise<void> {
    await this.db.deleteFrom('failed_logins').where('id', '=', rowId).execute();
  }

  async clearFailures(key: string): Promise<void> {
    await this.db.deleteFrom('failed_logins').where('key', '=', key).execute();
  }
}

/** Gives a user exactly these addresses (lower-cased), inside the caller's transaction. */
async function assignAddresses(trx: ViewerDatabase, userId: number, addresses: string[]): Promise<void> {
  const wanted = [...new Set(addresses.map((a) => a.trim().toLowerCase()).filter(Boolean))];
  if (wanted.length) {
    const owners = await trx
      .selectFrom('addresses')
      .innerJoin('users', 'users.id', 'addresses.user_id')
      .select(['addresses.address', 'users.username', 'users.id'])
      .where('addresses.address', 'in', wanted)
      .where('users.id', '!=', userId)
      .execute();
    const taken = wanted.map((address) => owners.find((o) => o.address === address)).find((owner) => owner !== undefined);
    if (taken) throw new AddressTakenError(taken.address, taken.username);
  }
  await trx.deleteFrom('addresses').where('user_id', '=', userId).execute();
  if (wanted.length)
    await trx
      .insertInto('addresses')
      .values(wanted.map((address) => ({ address, user_id: userId })))
      .execute();
}
