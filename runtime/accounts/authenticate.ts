// Password checks for the login form. Local accounts are checked against their scrypt hash; an
// unknown user costs the same time as a wrong password, so names cannot be probed by timing.
import type { ViewerAccounts, ViewerUser } from './viewer-accounts.js';
import { hashPassword, verifyPassword } from './passwords.js';

/** Checks a user's password, locally or against the directory; null when refused. `client` is for the audit log. */
export type Authenticate = (username: string, password: string, client?: string) => Promise<ViewerUser | null>;

export function localAuthenticator(accounts: ViewerAccounts): Authenticate {
  const decoy = hashPassword('decoy password that matches nothing');
  return async (username, password) => {
    const user = await accounts.findByName(username);
    if (!user || user.source !== 'local' || !user.passwordHash) {
      await verifyPassword(password, await decoy);
      return null;
    }
    return (await verifyPassword(password, user.passwordHash)) ? user : null;
  };
}
