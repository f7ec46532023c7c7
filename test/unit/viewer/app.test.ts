// The viewer's security rules, checked in-process with app.request(): sessions, CSRF, who sees
// what, download types, rate limiting, headers.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../runtime/config/load.js';
import { QuarantineStore } from '../../../runtime/quarantine/store.js';
import { ViewerAccounts } from '../../../runtime/accounts/viewer-accounts.js';
import { openViewerDb } from '../../../runtime/storage/open-viewer.js';
import { localAuthenticator } from '../../../runtime/accounts/authenticate.js';
import { createViewerApp } from '../../../runtime/viewer/app.js';
import type { Reinjector } from '../../../runtime/mail/reinject.js';
import { assembleActionServices } from '../../../runtime/actions/services.js';
import { freePort } from '../../support/net.js';
import { ViewerBrowser } from '../../support/viewer-browser.js';

type App = ReturnType<typeof createViewerApp>;
let app: App;
let store: QuarantineStore;
let services: ReturnType<typeof assembleActionServices>;
const released: Array<{ from: string; to: string[] }> = [];

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'viewer-'));
  // No spamd here: "Not spam" must still release and allow, and say that nothing was learned.
  const config = parseConfig({
    quarantine: { dir: join(dir, 'q') },
    viewer: { dataDir: join(dir, 'v') },
    spamd: { port: await freePort(), timeoutSeconds: 2 },
  });
  store = QuarantineStore.open(config.quarantine.dir, 100);
  const viewerDb = await openViewerDb(config, null);
  const accounts = await ViewerAccounts.open(viewerDb.db, 8);
  const reinjector: Reinjector = {
    send: async (from, to) => {
      released.push({ from, to });
      return to.map((recipient) => ({ recipient, code: 250, response: '250 ok' }));
    },
    close() {},
  };
  services = assembleActionServices({ config, store, viewerDb, accounts, reinjector });
  app = createViewerApp({ ...services, authenticate: localAuthenticator(accounts) });
  await accounts.create({ username: 'bob', password: 'bob-password-1', source: 'local', addresses: ['bob@company.local'] });
  await accounts.create({ username: 'carol', password: 'carol-password-1', source: 'local', addresses: ['carol@company.local'] });
  const spool = join(dir, 'm.eml');
  writeFileSync(spool, 'From: x@example.net\r\nSubject: hi\r\n\r\nbody\r\n');
  for (const [id, to, reason] of [
    ['m-bob', 'bob@company.local', 'SPAM'],
    ['m-carol', 'carol@company.local', 'SPAM'],
    ['m-virus', 'bob@company.local', 'VIRUS'],
    ['m-both', 'bob@company.local carol@company.local', 'BANNED'],
  ] as const) {
    await store.add(spool, {
      id,
      receivedAt: new Date(),
      mailFrom: 'x@example.net',
      recipients: to.split(' '),
      headerFrom: 'x@example.net',
      headerTo: to,
      subject: `subject ${id}`,
      reason,
      detail: 'd',
      size: 40,
    });
  }
});

/** The viewer's cookie-keeping client, against this file's app in-process, from `ip`. */
class Browser extends ViewerBrowser {
  constructor(ip = '10.0.0.1') {
    super(async (path, init) => app.request(`https://mx.company.com${path}`, init, { incoming: { socket: { remoteAddress: ip } } }));
  }
}

test('pages need a session; headers lock the page down', async () => {
  const browser = new Browser();
  const page = await browser.request('/viewer/messages');
  assert.equal(page.status, 303);
  assert.equal(page.location, '/viewer/login');
  const login = await browser.request('/viewer/login');
  assert.match(login.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  assert.equal(login.headers.get('x-frame-options'), 'DENY');
  assert.match(login.headers.get('set-cookie') ?? '', /HttpOnly; Secure; SameSite=Strict/);
});

test('vadmin must change the initial password before anything else', async () => {
  // From the appliance itself: the initial password is refused from anywhere else.
  const browser = new Browser('127.0.0.1');
  const login = await browser.login('vadmin', 'password');
  assert.equal(login.location, '/viewer/account/password');
  assert.equal((await browser.request('/viewer/admin')).location, '/viewer/account/password');
  const token = await browser.csrf('/viewer/account/password');
  const weak = await browser.request('/viewer/account/password', { form: { _csrf: token, current: 'password', next: 'short', again: 'short' } });
  assert.equal(weak.status, 400);
  const changed = await browser.request('/viewer/account/password', {
    form: { _csrf: token, current: 'password', next: 'a-much-better-one', again: 'a-much-better-one' },
  });
  assert.equal(changed.location, '/viewer/admin?done=password');
  assert.equal((await browser.request('/viewer/admin')).status, 200);
});

test('a user sees, downloads, releases and deletes only messages to their own addresses', async () => {
  const bob = new Browser('10.0.0.3');
  assert.equal((await bob.login('bob', 'bob-password-1')).location, '/viewer/messages');
  const list = await bob.request('/viewer/messages');
  assert.match(list.text, /subject m-bob/);
  assert.match(list.text, /subject m-both/);
  assert.doesNotMatch(list.text, /subject m-carol/);
  assert.equal((await bob.request('/viewer/messages/m-carol')).status, 404);
  assert.equal((await bob.request('/viewer/messages/m-carol/download')).status, 404);
  assert.equal((await bob.request('/viewer/messages/m-bob/download')).status, 200);
  const virus = await bob.request('/viewer/messages/m-virus/download');
  assert.equal(virus.status, 403);
  assert.match(virus.text, /VIRUS cannot be downloaded by you/);
  const token = await bob.csrf('/viewer/messages');
  assert.equal((await bob.request('/viewer/messages/m-carol/release', { form: { _csrf: token } })).status, 404);
  assert.equal((await bob.request('/viewer/messages/m-carol/delete', { form: { _csrf: token } })).status, 404);
  assert.ok(await store.get('m-carol'), 'carol’s message untouched');

  await bob.request('/viewer/messages/m-bob/release', { form: { _csrf: token } });
  assert.deepEqual(released.at(-1), { from: 'x@example.net', to: ['bob@company.local'] }, 'spam is released by its user');
  const before = released.length;
  const asked = await bob.request('/viewer/messages/m-both/release', { form: { _csrf: token } });
  assert.match(asked.location ?? '', /done=requested/);
  assert.equal(released.length, before, 'a banned attachment is not released by the user');
  assert.deepEqual(
    (await services.requests.pending()).map((r) => [r.messageId, r.username, r.recipients]),
    [['m-both', 'bob', ['bob@company.local']]],
    'it became a request for bob’s address only',
  );
  await bob.request('/viewer/messages/m-both/delete', { form: { _csrf: token } });
  assert.deepEqual((await store.get('m-both'))?.recipients, ['carol@company.local'], 'carol still has her copy');
});

test('a state change without the session’s CSRF token, or from another site, is refused', async () => {
  const carol = new Browser('10.0.0.4');
  await carol.login('carol', 'carol-password-1');
  assert.equal((await carol.request('/viewer/messages/m-carol/delete', { form: {} })).status, 403);
  assert.equal((await carol.request('/viewer/messages/m-carol/delete', { form: { _csrf: 'forged' } })).status, 403);
  const token = await carol.csrf('/viewer/messages');
  assert.equal((await carol.request('/viewer/messages/m-carol/delete', { form: { _csrf: token }, headers: { origin: 'https://evil.example' } })).status, 403);
  assert.equal((await carol.request('/viewer/messages/m-carol/delete', { form: { _csrf: token }, headers: { origin: 'null' } })).status, 403);
  assert.ok(await store.get('m-carol'));
  assert.equal((await carol.request('/viewer/admin')).status, 403, 'not for users');
});

test('failed logins are rate limited per user and address', async () => {
  const attacker = new Browser('10.0.0.5');
  for (let i = 0; i < 5; i++) assert.equal((await attacker.login('carol', `guess-${i}`)).status, 401);
  const blocked = await attacker.login('carol', 'carol-password-1');
  assert.equal(blocked.status, 429);
  assert.match(blocked.text, /Too many failed logins/);
  assert.equal((await new Browser('10.0.0.6').login('carol', 'carol-password-1')).status, 303, 'another address is not blocked');
});

test('message content is shown as inert text', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'viewer-html-'));
  const path = join(dir, 'h.eml');
  writeFileSync(
    path,
    'From: x@example.net\r\nTo: bob@company.local\r\nSubject: <script>alert(1)</script>\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>Bob</b></p><script>alert(2)</script><img src="http://tracker.example/x.gif">\r\n',
  );
  await store.add(path, {
    id: 'm-html',
    receivedAt: new Date(),
    mailFrom: 'x@example.net',
    recipients: ['bob@company.local'],
    headerFrom: 'x@example.net',
    headerTo: 'bob',
    subject: '<script>alert(1)</script>',
    reason: 'SPAM',
    detail: 'd',
    size: 200,
  });
  const bob = new Browser('10.0.0.7');
  await bob.login('bob', 'bob-password-1');
  const page = await bob.request('/viewer/messages/m-html');
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.text, /<script>|<img|<b>Bob/);
  assert.match(page.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(page.text, /Hello Bob/);
});

test('a user manages their own lists only; "Block sender" lists the sender and deletes the message for them', async () => {
  const carol = new Browser('10.0.0.6');
  await carol.login('carol', 'carol-password-1');
  const token = await carol.csrf('/viewer/lists');
  const bad = await carol.request('/viewer/lists/add', { form: { _csrf: token, pattern: 'not an address', kind: 'allow' } });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /neither an e-mail address nor \*@domain/);
  const past = await carol.request('/viewer/lists/add', { form: { _csrf: token, pattern: 'a@b.example', kind: 'allow', expires: '2001-01-01' } });
  assert.match(past.text, /already passed/);
  assert.equal(
    (await carol.request('/viewer/lists/add', { form: { _csrf: token, pattern: '*@partner.example', kind: 'allow', expires: '2099-12-31' } })).location,
    '/viewer/lists?done=added',
  );
  const carolId = (await services.accounts.findByName('carol'))!.id;
  const [entry] = await services.lists.list(carolId);
  assert.deepEqual([entry?.pattern, entry?.kind, new Date(entry?.expiresAt ?? 0).toISOString().slice(0, 10)], ['*@partner.example', 'allow', '2099-12-31']);

  const bob = new Browser('10.0.0.7');
  await bob.login('bob', 'bob-password-1');
  assert.doesNotMatch((await bob.request('/viewer/lists')).text, /partner\.example/, 'not on bob’s page');
  assert.equal(
    (await bob.request(`/viewer/lists/${entry!.id}/delete`, { form: { _csrf: await bob.csrf('/viewer/lists') } })).status,
    404,
    'bob cannot remove carol’s entry',
  );

  const blocked = await carol.request('/viewer/messages/m-carol/block-sender', { form: { _csrf: token } });
  assert.match(blocked.location ?? '', /done=blocked/);
  assert.equal(await store.get('m-carol'), undefined, 'deleted (carol was its only recipient)');
  assert.deepEqual(
    (await services.lists.list(carolId)).map((e) => [e.kind, e.pattern]),
    [
      ['block', 'x@example.net'],
      ['allow', '*@partner.example'],
    ],
  );
  assert.ok((await services.audit.list({ limit: 10, offset: 0, search: 'carol' })).some((r) => r.action === 'block-sender' && r.client === '10.0.0.6'));
});

test('the administrator denies a release request; the user is told and sees it', async () => {
  const bob = new Browser('10.0.0.9');
  await bob.login('bob', 'bob-password-1');
  await bob.request('/viewer/messages/m-virus/release', { form: { _csrf: await bob.csrf('/viewer/messages') } });
  assert.match((await bob.request('/viewer/messages')).text, /release requested/);
  const admin = new Browser('10.0.0.8');
  await admin.login('vadmin', 'a-much-better-one');
  const request = (await services.requests.pending()).find((r) => r.messageId === 'm-virus');
  assert.ok(request, 'bob’s request');
  assert.match((await admin.request('/viewer/admin')).text, /2 requests to decide/);
  const before = released.length;
  const denied = await admin.request(`/viewer/admin/requests/${request.id}/deny`, { form: { _csrf: await admin.csrf('/viewer/admin/requests') } });
  assert.equal(denied.location, '/viewer/admin/requests?done=denied');
  assert.match((await admin.request(denied.location)).text, /Denied: the message stays in the quarantine/);
  assert.deepEqual(released.slice(before), [{ from: '', to: ['bob@company.local'] }], 'a notice to bob, nothing else');
  assert.equal((await services.requests.get(request.id))?.status, 'denied');
  const again = await admin.request(`/viewer/admin/requests/${request.id}/approve`, { form: { _csrf: await admin.csrf('/viewer/admin/requests') } });
  assert.equal(again.status, 409, 'a decided request stays decided');
  assert.match((await bob.request('/viewer/messages')).text, /release denied by vadmin/);
});

test('"Not spam" in the viewer releases the message and allows its sender, even when spamd cannot learn', async () => {
  const bob = new Browser('10.0.0.10');
  await bob.login('bob', 'bob-password-1');
  const before = released.length;
  const done = await bob.request('/viewer/messages/m-html/not-spam', { form: { _csrf: await bob.csrf('/viewer/messages') } });
  assert.match(done.location ?? '', /done=not-spam/);
  assert.deepEqual(released.slice(before), [{ from: 'x@example.net', to: ['bob@company.local'] }]);
  const bobId = (await services.accounts.findByName('bob'))!.id;
  assert.deepEqual(
    (await services.lists.list(bobId)).map((e) => [e.kind, e.pattern]),
    [['allow', 'x@example.net']],
  );
  const [record] = await services.audit.list({ limit: 1, offset: 0, search: 'not-spam' });
  assert.match(record?.detail ?? '', /^released; not learned: spamd at 127\.0\.0\.1:\d+ unreachable/);
  const virus = await bob.request('/viewer/messages/m-virus/not-spam', { form: { _csrf: await bob.csrf('/viewer/messages') } });
  assert.equal(virus.status, 409, 'a virus is not "not spam"');
});
