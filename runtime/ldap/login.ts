// Viewer login against the directory (LOGIN_METHOD ldap): find the person by e-mail address, UPN
// or account name with the service account, then bind as that person with the given password.
// The administrator (vadmin) and local accounts always log in locally. A directory bind reaches
// only a directory account (source ldap, never the administrator) of the same name: a person
// named "vadmin" in the directory, or with a local account's address, gets nothing of theirs.
import type { AppConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Authenticate } from '../accounts/authenticate.js';
import type { ViewerAccounts } from '../accounts/viewer-accounts.js';
import type { AuditLog } from '../actions/audit.js';
import { connectDirectory, DirectoryError, escapeFilterValue } from './connection.js';
import { searchMailEnabled } from './entries.js';

export function directoryAuthenticator(config: AppConfig, accounts: ViewerAccounts, local: Authenticate, log: Logger, audit?: AuditLog): Authenticate {
  return async (username, password, client = 'unknown') => {
    const known = await accounts.findByName(username);
    if (known?.isAdmin || known?.source === 'local') return local(username, password, client);
    if (!password) return null; // an empty password would be an anonymous bind, which "succeeds"
    const name = escapeFilterValue(username.trim());
    let entries;
    const service = await connectDirectory(config.directory);
    try {
      entries = await searchMailEnabled(
        service,
        config.directory.baseDn,
        `(|(userPrincipalName=${name})(sAMAccountName=${name})(mail=${name})(proxyAddresses=smtp:${name}))`,
      );
    } finally {
      await service.unbind().catch(() => undefined);
    }
    const people = entries.filter((e) => e.isPerson);
    if (people.length !== 1) return null;
    const person = people[0]!;
    try {
      const asUser = await connectDirectory(config.directory, person.dn, password);
      await asUser.unbind().catch(() => undefined);
    } catch (err) {
      if (err instanceof DirectoryError && err.badCredentials) return null;
      log.error('directory login failed', { user: username, error: (err as Error).message.replace(/\n\s*/g, ' | ') });
      return null;
    }
    const existing = await accounts.findByName(person.loginName);
    if (existing && (existing.source !== 'ldap' || existing.isAdmin)) {
      const why = `directory person ${person.dn} refused: ${existing.username} is ${existing.isAdmin ? 'the administrator' : 'a local account'}`;
      log.warn('directory login refused', { user: username, dn: person.dn, account: existing.username });
      await audit?.record({ actor: username.slice(0, 100), action: 'login-refused', detail: why, client });
      return null;
    }
    if (existing) return existing;
    // First login before a sync: the account is made as the sync would, without addresses others hold.
    const free: string[] = [];
    for (const address of person.addresses) if (!(await accounts.findByAddress(address))) free.push(address);
    return accounts.createDirectoryUser({ username: person.loginName, addresses: free });
  };
}
