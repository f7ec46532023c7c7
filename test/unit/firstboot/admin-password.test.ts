import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setInitialAdminPassword } from '../../../firstboot/admin-password.js';
import { openSqliteAccounts } from '../../support/viewer-accounts-contract.js';
import { localAuthenticator } from '../../../runtime/accounts/authenticate.js';

test('apply gives vadmin a random password once, replacing the initial one, and keeps one set before', async () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'admin-password-')), 'viewer');
  const password = await setInitialAdminPassword(dataDir);
  assert.match(password ?? '', /^[a-zA-Z2-9]{16}$/);
  assert.equal(await setInitialAdminPassword(dataDir), null, 'a second apply keeps it');
  const { accounts, close } = await openSqliteAccounts(dataDir);
  const authenticate = localAuthenticator(accounts);
  assert.equal(await authenticate('vadmin', 'password'), null, 'the initial password is gone');
  assert.equal((await authenticate('vadmin', password!))?.username, 'vadmin');
  assert.equal(await accounts.adminPasswordIsInitial(), false, 'so the viewer takes vadmin from the network');
  await close();
});
