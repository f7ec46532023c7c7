// vadmin's first password, set by apply: until then the viewer's vadmin has the manual's initial
// "password", known to anyone on the network (the viewer refuses it from anywhere but the appliance
// itself). A random one is made and shown once on the console; a password already set is kept. It
// is set where the viewer reads accounts: viewer.sqlite, or the shared PostgreSQL (storage.backend).
import { randomInt } from 'node:crypto';
import { ViewerAccounts, ADMIN_USER } from './viewer-accounts.js';
import type { AppConfig } from '../config/schema.js';
import { openViewerDb } from '../storage/open-viewer.js';
import { openSharedHandle } from '../storage/shared-handle.js';

// No 0/O, 1/l/I: read off a console and typed into a browser.
const ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export function generatePassword(length = 16): string {
  return Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
}

/**
 * Sets vadmin's password in the viewer's database as `config` names it when it is still the
 * initial one; the new password to show, or null when kept. Throws when the database cannot be
 * reached.
 */
export async function setInitialAdminPassword(config: AppConfig): Promise<string | null> {
  const shared = openSharedHandle(config, { name: 'mailfilter-apply', maxConnections: 2 });
  const { db, close } = await openViewerDb(config, shared);
  try {
    const accounts = await ViewerAccounts.open(db, 1);
    if (!(await accounts.adminPasswordIsInitial())) return null;
    const password = generatePassword();
    await accounts.setPassword((await accounts.findByName(ADMIN_USER))!.id, password);
    return password;
  } finally {
    await close();
    await shared?.close();
  }
}
