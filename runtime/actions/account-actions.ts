// What happens to viewer accounts and their sessions, each written to the audit log: logging in and
// out, failed logins, a changed password (which ends every other session of that user), users
// added, edited and removed by the administrator.
import type { ViewerUser } from '../accounts/viewer-accounts.js';
import type { ActionDeps } from './services.js';
import type { Actor } from './quarantine-actions.js';
import type { DigestFrequency } from './settings.js';

export interface NewSession {
  token: string;
  csrfToken: string;
}

export async function logIn(services: ActionDeps, user: ViewerUser, client: string): Promise<NewSession> {
  const session = await services.accounts.createSession(user.id);
  await services.audit.record({ actor: user.username, action: 'login', detail: user.source === 'ldap' ? 'directory password' : 'local password', client });
  return session;
}

/**
 * A refused login; `why` says whether the password was wrong or the attempt was not even tried.
 * Untried ones (`flood`: rate limited, refused by rule) come by the thousand in an attack: one row
 * per client, reason and window.
 */
export async function loginRefused(services: ActionDeps, username: string, client: string, why: string, flood = false): Promise<void> {
  const input = { actor: username.slice(0, 100) || '(no name)', action: 'login-failed', detail: why, client };
  if (flood) await services.audit.recordThrottled(`login-failed|${client}|${why}`, input);
  else await services.audit.record(input);
}

export async function logOut(services: ActionDeps, user: ViewerUser | undefined, token: string | undefined, client: string): Promise<void> {
  await services.accounts.endSession(token);
  if (user) await services.audit.record({ actor: user.username, action: 'logout', client });
}

/** The user's own new password: every session of theirs ends, and the one that changed it gets a fresh one. */
export async function changeOwnPassword(services: ActionDeps, actor: Actor, password: string): Promise<NewSession> {
  await services.accounts.setPassword(actor.user.id, password);
  await services.accounts.endSessionsOf(actor.user.id);
  const session = await services.accounts.createSession(actor.user.id);
  await services.audit.record({
    actor: actor.user.username,
    action: 'password-change',
    detail: 'own password; every other session ended',
    client: actor.client,
  });
  return session;
}

/** The administrator setting a user's password: that user's sessions all end. */
export async function setUserPassword(services: ActionDeps, admin: Actor, user: ViewerUser, password: string): Promise<void> {
  await services.accounts.setPassword(user.id, password);
  await services.accounts.endSessionsOf(user.id);
  await services.audit.record({
    actor: admin.user.username,
    action: 'password-change',
    detail: `${user.username}'s password set; their sessions ended`,
    client: admin.client,
  });
}

export async function createUser(services: ActionDeps, admin: Actor, input: { username: string; password: string; addresses: string[] }): Promise<ViewerUser> {
  const user = await services.accounts.create({ ...input, source: 'local' });
  await services.audit.record({
    actor: admin.user.username,
    action: 'user-create',
    detail: `${user.username} for ${user.addresses.join(', ') || 'no address'}`,
    client: admin.client,
  });
  return user;
}

export async function deleteUser(services: ActionDeps, admin: Actor, userId: number): Promise<void> {
  const user = await services.accounts.get(userId);
  if (!user || user.isAdmin) return;
  await services.accounts.delete(user.id);
  await services.audit.record({
    actor: admin.user.username,
    action: 'user-delete',
    detail: `${user.username} (${user.source}) with ${user.addresses.join(', ') || 'no address'}`,
    client: admin.client,
  });
}

export interface UserChanges {
  /** Replaces the user's addresses; absent, they stay. */
  addresses?: string[];
  /** The user's digest frequency, null for everyone's default; absent, it stays. */
  frequency?: DigestFrequency | null;
  /** A new password (local accounts); absent, it stays. */
  password?: string;
}

/**
 * The administrator editing a user. Addresses go first: one that belongs to someone else throws
 * AddressTakenError before anything has changed. A new password gets its own line, as above.
 */
export async function editUser(services: ActionDeps, admin: Actor, user: ViewerUser, changes: UserChanges): Promise<void> {
  if (changes.addresses) await services.accounts.setAddresses(user.id, changes.addresses);
  if (changes.frequency !== undefined) await services.settings.setUserFrequency(user.id, changes.frequency);
  if (changes.password) await setUserPassword(services, admin, user, changes.password);
  await services.audit.record({ actor: admin.user.username, action: 'user-edit', detail: user.username, client: admin.client });
}
