// Issue 20's smaller items: direction controls in what a message shows, the audit of account
// events, junk link GETs aggregated, fixed notices, clamped page numbers, the absolute session
// lifetime, and the HTTP redirect to our own name only.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { startTestViewer, type TestViewer } from './harness.js';
import { parseConfig } from '../../../runtime/config/load.js';
import { startViewer } from '../../../runtime/viewer/server.js';
import { freePort } from '../../support/net.js';

let viewer: TestViewer;

before(async () => {
  viewer = await startTestViewer();
  await viewer.services.accounts.create({ username: 'alice', password: 'alice-password-1', source: 'local', addresses: ['alice@company.local'] });
  await viewer.services.accounts.setPassword((await viewer.services.accounts.findByName('vadmin'))!.id, 'admin-password-1');
});

test('direction controls in subject, sender and names are not passed to the page', async () => {
  const subject = 'Invoice \u202efdp.exe\u2066 \u200f';
  await viewer.addMessage(
    { id: 'm-bidi', recipients: ['alice@company.local'], subject, headerFrom: 'Bank\u202e <x@example.net>' },
    `From: Bank\u202e <x@example.net>\r\nSubject: ${subject}\r\n\r\nbody\r\n`,
  );
  const alice = viewer.browser('10.2.0.1');
  await alice.login('alice', 'alice-password-1');
  for (const path of ['/viewer/messages', '/viewer/messages/m-bidi']) {
    const page = await alice.request(path);
    assert.match(page.text, /Invoice +fdp\.exe/, path);
    assert.doesNotMatch(page.text, /[\u202a-\u202e\u2066-\u2069\u200e\u200f]/, path);
  }
});

test('logins, failed logins, logouts, password changes and users added or removed are in the audit log', async () => {
  const admin = viewer.browser('10.2.1.1');
  assert.equal((await admin.login('vadmin', 'wrong-one')).status, 401);
  await admin.login('vadmin', 'admin-password-1');
  await admin.request('/viewer/admin/users/new', {
    form: { _csrf: await admin.csrf('/viewer/admin/users/new'), username: 'zed', password: 'zed-password-1', addresses: 'zed@company.local' },
  });
  const zed = viewer.browser('10.2.1.2');
  await zed.login('zed', 'zed-password-1');
  await zed.request('/viewer/account/password', {
    form: { _csrf: await zed.csrf('/viewer/account/password'), current: 'zed-password-1', next: 'zed-password-2', again: 'zed-password-2' },
  });
  await zed.post('/viewer/logout');
  const zedId = (await viewer.services.accounts.findByName('zed'))!.id;
  await admin.request(`/viewer/admin/users/${zedId}/delete`, { form: { _csrf: await admin.csrf('/viewer/admin/users') } });
  const rows = (await viewer.services.audit.list({ limit: 50, offset: 0 })).reverse().map((r) => `${r.actor} ${r.action} ${r.client}`);
  assert.deepEqual(
    rows.filter((r) => /^(vadmin|zed) .*(login|logout|password|user-)/.test(r)),
    [
      'vadmin login-failed 10.2.1.1',
      'vadmin login 10.2.1.1',
      'vadmin user-create 10.2.1.1',
      'zed login 10.2.1.2',
      'zed password-change 10.2.1.2',
      'zed logout 10.2.1.2',
      'vadmin user-delete 10.2.1.1',
    ],
  );
});

test('300 junk link GETs from one client make one audit row, not 300', async () => {
  const before = await viewer.services.audit.count('link-refused');
  const scanner = viewer.browser('10.2.2.1');
  for (let i = 0; i < 300; i++) assert.equal((await scanner.request(`/viewer/a/junk${i}`)).status, 400);
  assert.equal((await viewer.services.audit.count('link-refused')) - before, 1);
  assert.equal((await scanner.request('/viewer/a/junk', { form: {} })).status, 400);
  assert.equal((await viewer.services.audit.count('link-refused')) - before, 2, 'a refused POST is always recorded');
});

test('?done= shows only the notices the console knows, never text from the address bar', async () => {
  const admin = viewer.browser('10.2.3.1');
  await admin.login('vadmin', 'admin-password-1');
  for (const path of ['/viewer/admin/requests', '/viewer/admin', '/viewer/messages', '/viewer/admin/users', '/viewer/lists']) {
    const page = await admin.request(`${path}?done=${encodeURIComponent('Your account is locked: call +1 555 0100')}`);
    assert.doesNotMatch(page.text, /call \+1 555 0100/, path);
  }
  assert.match((await admin.request('/viewer/admin/requests?done=denied')).text, /Denied: the message stays in the quarantine/);
});

test('?page=1e20 and other odd page numbers show a page, not an error', async () => {
  const admin = viewer.browser('10.2.4.1');
  await admin.login('vadmin', 'admin-password-1');
  for (const page of ['1e20', '-5', 'x', '9007199254740993', 'Infinity']) {
    assert.equal((await admin.request(`/viewer/messages?page=${page}`)).status, 200, `messages page=${page}`);
    assert.equal((await admin.request(`/viewer/admin/audit?page=${page}`)).status, 200, `audit page=${page}`);
  }
});

test('a session ends after its absolute lifetime, however active', async () => {
  const { accounts } = viewer.services;
  const user = (await accounts.findByName('alice'))!;
  const { token } = await accounts.createSession(user.id);
  const hour = 3600_000;
  const start = Date.now();
  // Used every 7 hours: the 8-hour idle limit alone would keep it alive for ever.
  for (const at of [7, 14, 21]) assert.ok(accounts.session(token, start + at * hour), `alive at ${at} h`);
  assert.equal(await accounts.session(token, start + 24 * hour + 60_000), undefined, 'over after 24 h');
});

test('the HTTP redirect goes to the configured host name, whatever the Host header says', async () => {
  const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'viewer-redirect-'));
  const config = parseConfig({
    network: { hostname: 'mx.company.com' },
    quarantine: { dir: join(dir, 'q') },
    viewer: { dataDir: join(dir, 'v'), listenAddress: '127.0.0.1', httpsPort: await freePort(), httpPort: await freePort() },
  });
  const running = await startViewer(config);
  try {
    const location = await new Promise<string | undefined>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port: running.httpPort, path: '/viewer/login', headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.headers.location);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(location, `https://mx.company.com:${running.httpsPort}/viewer/`);
  } finally {
    await running.close();
  }
});
