import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setInitialAdminPassword } from '../../../runtime/accounts/admin-password.js';
import { parseConfig } from '../../../runtime/config/load.js';
import { openSqliteAccounts } from '../../support/viewer-accounts-contract.js';
import { localAuthenticator } from '../../../runtime/accounts/authenticate.js';

test('apply gives vadmin a random password once, replacing the initial one, and keeps one set before', async () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'admin-password-')), 'viewer');
  const config = parseConfig({ viewer: { dataDir } });
  const password = await setInitialAdminPassword(config);
  assert.match(password ?? '', /^[a-zA-Z2-9]{16}$/);
  assert.equal(await setInitialAdminPassword(config), null, 'a second apply keeps it');
  const { accounts, close } = await openSqliteAccounts(dataDir);
  const authenticate = localAuthenticator(accounts);
  assert.equal(await authenticate('vadmin', 'password'), null, 'the initial password is gone');
  assert.equal((await authenticate('vadmin', password!))?.username, 'vadmin');
  assert.equal(await accounts.adminPasswordIsInitial(), false, 'so the viewer takes vadmin from the network');
  await close();
});

test('with storage.backend postgresql it is set in the shared database, so a database that does not answer is an error (apply says so)', async () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'admin-password-')), 'viewer');
  // Port 1 on loopback: nobody listens, the connection is refused at once.
  const config = parseConfig({ viewer: { dataDir }, storage: { backend: 'postgresql', url: 'postgresql://mailfilter:x@127.0.0.1:1/mailfilter' } });
  await assert.rejects(setInitialAdminPassword(config), /ECONNREFUSED/);
});
