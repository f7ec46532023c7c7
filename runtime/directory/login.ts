// Viewer login against the directory (LOGIN_METHOD ldap): find the person by e-mail address, UPN
// or account name with the service account, then bind as that person with the given password.
// The administrator (vadmin) always logs in locally.
import type { AppConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Authenticate } from '../viewer/context.js';
import type { ViewerAccounts } from '../viewer/accounts.js';
import { connectDirectory, DirectoryError, escapeFilterValue } from './connection.js';
import { searchMailEnabled } from './entries.js';

export function directoryAuthenticator(config: AppConfig, accounts: ViewerAccounts, local: Authenticate, log: Logger): Authenticate {
  return async (username, password) => {
    const known = accounts.findByName(username);
    if (known?.isAdmin || known?.source === 'local') return local(username, password);
    if (!password) return null; // an empty password would be an anonymous bind, which "succeeds"
    const name = escapeFilterValue(username.trim());
    let entries;
    const service = await connectDirectory(config.directory);
    try {
      entries = await searchMailEnabled(service, config.directory.baseDn, `(|(userPrincipalName=${name})(sAMAccountName=${name})(mail=${name})(proxyAddresses=smtp:${name}))`);
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
    const existing = accounts.findByName(person.loginName) ?? accounts.findByAddress(person.addresses[0] ?? '');
    if (existing) return existing;
    const free = person.addresses.filter((a) => !accounts.findByAddress(a));
    return accounts.createSync({ username: person.loginName, source: 'ldap', addresses: free });
  };
}
