// Directory logins against a real slapd: a bind reaches only an account the directory sync made.
// A directory person named "vadmin", or named like a local account, or holding a local account's
// address, gets nothing of the administrator's or that account's; the refusal is audited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDirectory, type Slapd } from '../support/slapd.js';
import { startTestViewer, type TestViewer } from '../unit/viewer/harness.js';
import { directoryAuthenticator } from '../../runtime/ldap/login.js';
import { localAuthenticator } from '../../runtime/accounts/authenticate.js';
import { logger } from '../../runtime/log.js';

let slapd: Slapd;
let viewer: TestViewer;

const person = (cn: string, attributes: string[], password: string) =>
  [`dn: cn=${cn},ou=MyBusiness,dc=company,dc=local`, 'objectClass: user', `cn: ${cn}`, `sn: ${cn}`, ...attributes, `userPassword: ${password}`].join('\n');

const TREE =
  [
    'dn: dc=company,dc=local\nobjectClass: dcObject\nobjectClass: organization\ndc: company\no: Company',
    'dn: ou=MyBusiness,dc=company,dc=local\nobjectClass: organizationalUnit\nou: MyBusiness',
    'dn: cn=sync,ou=MyBusiness,dc=company,dc=local\nobjectClass: user\ncn: sync\nsn: sync\nuserPassword: sync-secret\nsAMAccountName: sync',
    person('Impostor', ['sAMAccountName: vadmin', 'mail: impostor@company.com'], 'impostor-pw'),
    person('Bob Twin', ['sAMAccountName: bob', 'mail: bobtwin@company.com'], 'twin-pw'),
    person('Lookalike', ['userPrincipalName: lookalike@company.local', 'mail: bob@company.local'], 'lookalike-pw'),
    person('Real', ['userPrincipalName: real@company.local', 'mail: real@company.com'], 'real-pw'),
  ].join('\n\n') + '\n';

before(
  async () => {
    const directory = await startTestDirectory('mailfilter-ldap-login-', TREE);
    slapd = directory.slapd;
    viewer = await startTestViewer({
      viewer: { loginMethod: 'ldap' },
      directory: directory.settings,
      authenticate: (services) =>
        directoryAuthenticator(services.config, services.accounts, localAuthenticator(services.accounts), logger('directory-login-test'), services.audit),
    });
    const { accounts } = viewer.services;
    await accounts.setPassword((await accounts.findByName('vadmin'))!.id, 'admin-password-1');
    await accounts.create({ username: 'bob', password: 'bob-password-1', source: 'local', addresses: ['bob@company.local'] });
    await viewer.addMessage({ id: 'm-bob', recipients: ['bob@company.local'], subject: 'For bob only' });
  },
  { timeout: 120_000 },
);

after(async () => {
  await slapd?.stop();
});

test('a directory person whose account name is vadmin, or a local account’s name, is refused and audited', async () => {
  for (const [typed, password, account] of [
    ['impostor@company.com', 'impostor-pw', 'vadmin'],
    ['bobtwin@company.com', 'twin-pw', 'bob'],
  ] as const) {
    const browser = viewer.browser('10.3.0.1');
    const answer = await browser.login(typed, password);
    assert.equal(answer.status, 401, `${typed} must not become ${account}`);
    assert.equal((await browser.request('/viewer/messages')).location, '/viewer/login');
    const [refusal] = await viewer.services.audit.list({ limit: 1, offset: 0, search: 'login-refused' });
    assert.match(refusal?.detail ?? '', new RegExp(`${account} is (the administrator|a local account)`));
    assert.equal(refusal?.client, '10.3.0.1');
  }
});

test('a directory person holding a local account’s address does not get that account', async () => {
  const browser = viewer.browser('10.3.0.2');
  assert.equal((await browser.login('lookalike@company.local', 'lookalike-pw')).status, 303);
  const page = await browser.request('/viewer/messages');
  assert.match(page.text, /Log out lookalike@company\.local/);
  assert.doesNotMatch(page.text, /For bob only/);
  assert.deepEqual((await viewer.services.accounts.findByName('bob'))?.addresses, ['bob@company.local'], 'bob keeps his address');
  assert.deepEqual((await viewer.services.accounts.findByName('lookalike@company.local'))?.addresses, [], 'the address stays with its owner');
});

test('an ordinary directory person logs in to their own directory account', async () => {
  const browser = viewer.browser('10.3.0.3');
  assert.equal((await browser.login('real@company.com', 'real-pw')).status, 303);
  const user = await viewer.services.accounts.findByName('real@company.local');
  assert.equal(user?.source, 'ldap');
  assert.equal((await viewer.browser('10.3.0.4').login('real@company.local', 'real-pw')).status, 303, 'the same account again');
  assert.equal((await viewer.browser('10.3.0.5').login('real@company.com', 'wrong')).status, 401);
});
