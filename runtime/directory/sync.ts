// `mailfilter directory-sync [-c]`: the recipient map and the viewer's users, drawn from the
// directory. A directory that errs or answers with nothing leaves the old map in place.
import { join } from 'node:path';
import type { AppConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { AddressTakenError, type ViewerAccounts } from '../accounts/viewer-accounts.js';
import { connectDirectory, DirectoryError } from '../ldap/connection.js';
import { searchMailEnabled, type DirectoryEntry } from '../ldap/entries.js';
import { reloadPostfix, writeRecipientMap } from './recipient-map.js';

export interface SyncReport {
  entries: number;
  addresses: number;
  usersCreated: number;
  usersCleared: number;
  mapPath: string;
}

export function recipientMapPath(config: AppConfig): string {
  return join(config.postfix.configDir, 'exchange_recipients');
}

async function readDirectory(config: AppConfig): Promise<DirectoryEntry[]> {
  const client = await connectDirectory(config.directory);
  try {
    return await searchMailEnabled(client, config.directory.baseDn);
  } catch (err) {
    throw new DirectoryError(`Searching ${config.directory.baseDn} failed: ${(err as Error).message}`);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/** Creates a viewer user for each directory person; with `clear`, redraws all directory users. */
async function syncUsers(entries: DirectoryEntry[], accounts: ViewerAccounts, clear: boolean, log: Logger): Promise<{ created: number; cleared: number }> {
  const cleared = clear ? await accounts.deleteBySource('ldap') : 0;
  let created = 0;
  for (const entry of entries.filter((e) => e.isPerson)) {
    if (await accounts.findByName(entry.loginName)) continue;
    const free: string[] = [];
    for (const address of entry.addresses) {
      const owner = await accounts.findByAddress(address);
      if (owner) log.warn('address kept by its current viewer user', { address, owner: owner.username, directory_user: entry.loginName });
      else free.push(address);
    }
    try {
      await accounts.createDirectoryUser({ username: entry.loginName, addresses: free });
      created += 1;
    } catch (err) {
      // Another node's sync (sharing the database) may have made this user a moment ago.
      if (!(err instanceof AddressTakenError) && !(await accounts.findByName(entry.loginName))) throw err;
      log.warn('user skipped', { user: entry.loginName, why: (err as Error).message });
    }
  }
  return { created, cleared };
}

export async function syncDirectory(config: AppConfig, accounts: ViewerAccounts | null, options: { clear: boolean }, log: Logger): Promise<SyncReport> {
  const entries = await readDirectory(config);
  const addresses = [...new Set(entries.flatMap((e) => e.addresses))];
  const mapPath = recipientMapPath(config);
  if (addresses.length === 0)
    throw new DirectoryError(`The directory answered with no mail-enabled entries under ${config.directory.baseDn}; the old recipient map is kept`);
  await writeRecipientMap(mapPath, addresses, config.postfix.configDir);
  const reloaded = await reloadPostfix(config.postfix.configDir);
  log.info('recipient map written', { path: mapPath, addresses: addresses.length, entries: entries.length, postfix_reloaded: reloaded });
  const users = accounts ? await syncUsers(entries, accounts, options.clear, log) : { created: 0, cleared: 0 };
  if (accounts) log.info('viewer users synchronised', { created: users.created, cleared: users.cleared });
  return { entries: entries.length, addresses: addresses.length, usersCreated: users.created, usersCleared: users.cleared, mapPath };
}
