// Exchange/AD integration against a real slapd (AD-like schema, TLS from a test CA, a size limit
// that only paged searches get past) and the real Postfix chain using the recipient map.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startChain, type Chain } from '../support/chain.js';
import { startTestDirectory, adLikeTree, type Slapd } from '../support/slapd.js';
import { buildMessage } from '../support/messages.js';
import { freePort } from '../support/net.js';
import { syncDirectory, recipientMapPath } from '../../runtime/directory/sync.js';
import { directoryAuthenticator } from '../../runtime/ldap/login.js';
import { DirectoryError } from '../../runtime/ldap/connection.js';
import type { ViewerAccounts } from '../../runtime/accounts/viewer-accounts.js';
import { openSqliteAccounts } from '../support/viewer-accounts-contract.js';
import { localAuthenticator } from '../../runtime/accounts/authenticate.js';
import { logger } from '../../runtime/log.js';
import type { AppConfig } from '../../runtime/config/schema.js';

const USERS = 300;
let slapd: Slapd;
let chain: Chain;
let accounts: ViewerAccounts;
let closeAccounts: (() => Promise<void>) | undefined;
const log = logger('directory-test');

before(
  async () => {
    const directory = await startTestDirectory('mailfilter-ldap-', adLikeTree(USERS));
    slapd = directory.slapd;
    chain = await startChain({
      directory: directory.settings,
      viewer: { loginMethod: 'ldap', dataDir: join(directory.dir, 'viewer') },
    });
    ({ accounts, close: closeAccounts } = await openSqliteAccounts(chain.config.viewer.dataDir));
  },
  { timeout: 240_000 },
);

after(async () => {
  await closeAccounts?.();
  await chain?.stop();
  await slapd?.stop();
});

function withDirectory(changes: Partial<AppConfig['directory']>): AppConfig {
  return { ...chain.config, directory: { ...chain.config.directory, ...changes } };
}

function mapAddresses(): string[] {
  return readFileSync(recipientMapPath(chain.config), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(' ')[0]!);
}

test('the recipient map holds exactly the SMTP addresses under the base DN, read past the size limit', async () => {
  const report = await syncDirectory(chain.config, accounts, { clear: false }, log);
  const addresses = mapAddresses();
  assert.equal(addresses.length, USERS * 2 + 2, 'two per user, two for the group');
  assert.ok(addresses.includes('user1@company.com') && addresses.includes(`user${USERS}@company.local`));
  assert.ok(addresses.includes('vertrieb@company.com'), 'smtp: secondary addresses count');
  assert.ok(!addresses.some((a) => a.includes('x400') || a.includes('c=us')), 'X400 addresses are not mail addresses');
  assert.ok(!addresses.includes('outsider@company.com'), 'nothing from outside the base DN');
  assert.equal(report.usersCreated, USERS);
});

test('Postfix with that map accepts a known recipient and refuses an unknown one', async () => {
  const known = await chain.send(
    buildMessage({ subject: 'to a directory user', from: 'someone@example.net' }),
    { from: 'someone@example.net', to: ['user7@company.com'] },
    { localAddress: '127.0.0.2' },
  );
  assert.deepEqual(known.accepted, ['user7@company.com'], known.response);
  await chain.sink.waitFor((m) => m.raw.includes('to a directory user'));
  const unknown = await chain.send(
    buildMessage({ subject: 'to nobody' }),
    { from: 'someone@example.net', to: ['nobody@company.com'] },
    { localAddress: '127.0.0.2' },
  );
  assert.equal(unknown.accepted.length, 0);
  assert.match(unknown.response, /550 5\.1\.1 .*Recipient address rejected: User unknown in relay recipient table/);
});

test('viewer users appear with their addresses; -c redraws them', async () => {
  const user = await accounts.findByName('user5@company.local');
  assert.deepEqual(user?.addresses, ['user5@company.com', 'user5@company.local']);
  assert.equal(user?.source, 'ldap');
  await accounts.setAddresses(user!.id, ['user5@company.com']);
  await syncDirectory(chain.config, accounts, { clear: false }, log);
  assert.deepEqual((await accounts.findByName('user5@company.local'))?.addresses, ['user5@company.com'], 'left alone without -c');
  const report = await syncDirectory(chain.config, accounts, { clear: true }, log);
  assert.equal(report.usersCleared, USERS);
  assert.deepEqual((await accounts.findByName('user5@company.local'))?.addresses, ['user5@company.com', 'user5@company.local'], 'redrawn with -c');
});

test('a user logs into the viewer with directory credentials; vadmin stays local', async () => {
  const authenticate = directoryAuthenticator(chain.config, accounts, localAuthenticator(accounts), log);
  assert.equal((await authenticate('user9@company.com', 'password-9'))?.username, 'user9@company.local');
  assert.equal((await authenticate('user9@company.local', 'password-9'))?.username, 'user9@company.local');
  assert.equal(await authenticate('user9@company.com', 'wrong'), null);
  assert.equal(await authenticate('user9@company.com', ''), null, 'no anonymous bind');
  assert.equal(await authenticate('*)(mail=*', 'password-9'), null, 'filter input is escaped');
  assert.equal((await authenticate('vadmin', 'password'))?.username, 'vadmin');
});

test('wrong service password, unreachable server and refused TLS each explain themselves and keep the old map', async () => {
  const before = readFileSync(recipientMapPath(chain.config), 'utf8');
  const mtime = statSync(recipientMapPath(chain.config)).mtimeMs;
  const closedPort = await freePort();
  const cases: Array<[string, AppConfig, RegExp]> = [
    ['wrong password', withDirectory({ bindPassword: 'nope' }), /Binding to 127\.0\.0\.1 as cn=sync.* failed: the user name or password was refused/],
    [
      'unreachable',
      withDirectory({ ldapPort: closedPort, ldapsPort: closedPort }),
      /Cannot reach the directory server 127\.0\.0\.1:\n {2}LDAPS \(ldaps:\/\/127\.0\.0\.1:\d+\): .*ECONNREFUSED.*\n {2}StartTLS .*ECONNREFUSED.*\n {2}plain LDAP: not tried, LDAP_ALLOW_INSECURE/,
    ],
    [
      'untrusted certificate',
      withDirectory({ caFile: '' }),
      /LDAPS .*certificate.*directory\.caFile.*\n {2}StartTLS .*certificate.*\n {2}plain LDAP: not tried/,
    ],
  ];
  for (const [label, config, expected] of cases) {
    await assert.rejects(syncDirectory(config, accounts, { clear: false }, log), (err: Error) => {
      assert.ok(err instanceof DirectoryError, `${label}: ${err.message}`);
      assert.match(err.message, expected, label);
      return true;
    });
  }
  assert.equal(readFileSync(recipientMapPath(chain.config), 'utf8'), before);
  assert.equal(statSync(recipientMapPath(chain.config)).mtimeMs, mtime);
  // With LDAP_ALLOW_INSECURE, the untrusted server is used over plain LDAP as a last resort.
  const insecure = await syncDirectory(withDirectory({ caFile: '', allowInsecure: true }), null, { clear: false }, log);
  assert.equal(insecure.addresses, USERS * 2 + 2);
});
