// Bulk actions, Delete All and Clear, in-process with app.request(): the list's form only leads to a
// confirmation page, the POST from it acts message by message through the single actions (same
// permissions, one audit line each), and a user never reaches another user's copy.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startTestViewer, type TestBrowser, type TestViewer } from './harness.js';

let viewer: TestViewer;

before(
  async () => {
    viewer = await startTestViewer();
    const { accounts } = viewer.services;
    for (const name of ['alice', 'bob', 'carol', 'dan']) {
      await accounts.create({ username: name, password: `${name}-password-1`, source: 'local', addresses: [`${name}@company.local`] });
    }
    await accounts.setPassword((await accounts.findByName('vadmin'))!.id, 'admin-password-1');
  },
  { timeout: 60_000 },
);

/** A POST of the confirmation page's form: repeated `id` fields, as the browser sends them. */
async function postBulk(browser: TestBrowser, action: string, ids: string[], token?: string) {
  const body = new URLSearchParams([['_csrf', token ?? (await browser.csrf('/viewer/messages'))], ['action', action], ...ids.map((id) => ['id', id])]);
  return browser.request('/viewer/messages/bulk', { body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

const confirmPath = (action: string, ids: string[]) => `/viewer/messages/bulk?${new URLSearchParams([['action', action], ...ids.map((id) => ['id', id])])}`;
const auditOf = async (id: string) => (await viewer.services.audit.list({ limit: 20, offset: 0, search: id })).map((r) => `${r.actor} ${r.action}`);

test('a bulk release asks first, then releases what the user may and turns the rest into requests, one audit line each', { timeout: 30_000 }, async () => {
  await viewer.addMessage({ id: 'r-spam', recipients: ['alice@company.local'], subject: 'Bulk spam', reason: 'SPAM' });
  await viewer.addMessage({ id: 'r-banned', recipients: ['alice@company.local'], subject: 'Bulk banned', reason: 'BANNED', detail: 'banned name: setup.exe' });
  await viewer.addMessage({ id: 'r-bob', recipients: ['bob@company.local'], subject: 'Bob’s own' });
  const alice = viewer.browser('10.3.0.1');
  await alice.login('alice', 'alice-password-1');

  const list = await alice.request('/viewer/messages');
  assert.match(list.text, /<form id="bulk" method="get" action="\/viewer\/messages\/bulk"/);
  assert.match(list.text, /<input type="checkbox" name="id" value="r-spam" form="bulk"/);
  assert.match(list.text, /<details class="menu">/);

  const sentBefore = viewer.sent.length;
  const ask = await alice.request(confirmPath('release', ['r-spam', 'r-banned', 'r-bob', 'no-such-id']));
  assert.equal(ask.status, 200);
  assert.match(ask.text, /Release: 2 messages\?/);
  assert.match(ask.text, /Bulk spam[\s\S]*released/);
  assert.match(ask.text, /Bulk banned[\s\S]*a release request to the administrator/);
  assert.doesNotMatch(ask.text, /Bob’s own|r-bob/, 'another user’s message is not even named');
  assert.match(ask.text, /2 messages of those selected are no longer in your quarantine/);
  assert.equal(viewer.sent.length, sentBefore, 'the confirmation page changes nothing');
  assert.deepEqual(await viewer.services.requests.pending(), []);

  const token = /name="_csrf" value="([^"]+)"/.exec(ask.text)![1]!;
  const done = await postBulk(alice, 'release', ['r-spam', 'r-banned', 'r-bob'], token);
  assert.equal(done.status, 200);
  assert.match(done.text, /Release: 2 messages done/);
  assert.deepEqual(
    viewer.sent.slice(sentBefore).map((m) => m.to),
    [['alice@company.local']],
    'only the spam was sent on',
  );
  assert.deepEqual(
    (await viewer.services.requests.pending()).map((r) => [r.messageId, r.username]),
    [['r-banned', 'alice']],
  );
  assert.deepEqual(await auditOf('r-spam'), ['alice release']);
  assert.deepEqual(await auditOf('r-banned'), ['alice request']);
  assert.deepEqual((await viewer.services.store.get('r-bob'))?.releases, [], 'bob’s message untouched');
  assert.deepEqual(await auditOf('r-bob'), []);

  const again = await postBulk(alice, 'release', ['r-spam']);
  assert.match(again.text, /already released/, 'a second bulk release sends no second copy');
  assert.equal(viewer.sent.length, sentBefore + 1);
});

test('a bulk POST without the session’s token, or from another site, changes nothing', { timeout: 30_000 }, async () => {
  await viewer.addMessage({ id: 'x-1', recipients: ['carol@company.local'] });
  const carol = viewer.browser('10.3.1.1');
  await carol.login('carol', 'carol-password-1');
  assert.equal((await postBulk(carol, 'delete', ['x-1'], 'forged')).status, 403);
  const cross = await carol.request('/viewer/messages/bulk', {
    form: { _csrf: await carol.csrf('/viewer/messages'), action: 'delete', id: 'x-1' },
    headers: { origin: 'https://evil.example' },
  });
  assert.equal(cross.status, 403);
  assert.equal((await postBulk(carol, 'explode', ['x-1'])).status, 400, 'only the four actions');
  assert.equal((await carol.request(confirmPath('explode', ['x-1']))).status, 400);
  assert.ok(await viewer.services.store.get('x-1'));
});

test('bulk delete, block and allow reach only the user’s own copies; shared messages stay for the others', { timeout: 30_000 }, async () => {
  await viewer.addMessage({ id: 'd-shared', recipients: ['dan@company.local', 'bob@company.local'], subject: 'Shared' });
  await viewer.addMessage({ id: 'd-own', recipients: ['dan@company.local'] });
  await viewer.addMessage({ id: 'b-1', recipients: ['dan@company.local'], headerFrom: 'Pushy <pushy@spam.example>', mailFrom: 'bounce@spam.example' });
  await viewer.addMessage({ id: 'b-2', recipients: ['dan@company.local'], headerFrom: 'pushy@spam.example', mailFrom: 'pushy@spam.example' });
  await viewer.addMessage({
    id: 'a-1',
    recipients: ['dan@company.local'],
    headerFrom: 'Friend <friend@partner.example>',
    mailFrom: 'friend@partner.example',
    reason: 'BADH',
    detail: 'bad header',
  });
  await viewer.addMessage({ id: 'a-bob', recipients: ['bob@company.local'], headerFrom: 'other@partner.example' });
  const dan = viewer.browser('10.3.2.1');
  await dan.login('dan', 'dan-password-1');
  const danId = (await viewer.services.accounts.findByName('dan'))!.id;

  await postBulk(dan, 'delete', ['d-shared', 'd-own', 'r-bob']);
  assert.deepEqual((await viewer.services.store.get('d-shared'))?.recipients, ['bob@company.local'], 'bob keeps his copy');
  assert.equal(await viewer.services.store.get('d-own'), undefined);
  assert.ok(await viewer.services.store.get('r-bob'), 'bob’s own message, by id, is not dan’s to delete');
  assert.deepEqual(await auditOf('d-shared'), ['dan delete']);

  const block = await dan.request(confirmPath('block', ['b-1', 'b-2']));
  assert.match(block.text, /block pushy@spam\.example; deleted/);
  await postBulk(dan, 'block', ['b-1', 'b-2']);
  assert.equal(await viewer.services.store.get('b-1'), undefined);
  assert.equal(await viewer.services.store.get('b-2'), undefined);
  assert.deepEqual(
    (await viewer.services.lists.list(danId)).map((e) => [e.kind, e.pattern]),
    [['block', 'pushy@spam.example']],
    'one exact entry, never a domain',
  );
  assert.deepEqual(await auditOf('b-1'), ['dan block-sender']);

  const sentBefore = viewer.sent.length;
  const allowed = await postBulk(dan, 'allow', ['a-1', 'a-bob']);
  assert.match(allowed.text, /Allow sender and release: 1 message done/);
  assert.deepEqual(
    viewer.sent.slice(sentBefore).map((m) => m.to),
    [['dan@company.local']],
  );
  assert.deepEqual((await viewer.services.lists.list(danId)).map((e) => [e.kind, e.pattern]).sort(), [
    ['allow', 'friend@partner.example'],
    ['block', 'pushy@spam.example'],
  ]);
  assert.deepEqual(await auditOf('a-1'), ['dan allow-sender', 'dan release']);
  assert.deepEqual((await viewer.services.store.get('a-bob'))?.releases, []);
});

test('Delete All shows a confirmation first, then deletes each of the user’s copies with its own audit line', { timeout: 30_000 }, async () => {
  await viewer.addMessage({ id: 'all-1', recipients: ['carol@company.local'] });
  await viewer.addMessage({ id: 'all-2', recipients: ['carol@company.local', 'alice@company.local'] });
  const carol = viewer.browser('10.3.3.1');
  await carol.login('carol', 'carol-password-1');
  const list = await carol.request('/viewer/messages');
  assert.match(list.text, /<form method="get" action="\/viewer\/messages\/delete-all"><button type="submit" class="danger">Delete All…<\/button><\/form>/);
  const ask = await carol.request('/viewer/messages/delete-all');
  assert.match(ask.text, /Delete all your quarantined messages\?/);
  assert.match(ask.text, /3 messages for carol@company\.local will be deleted/);
  assert.ok(await viewer.services.store.get('all-1'), 'the page deleted nothing');
  const done = await carol.request('/viewer/messages/delete-all', { form: { _csrf: /name="_csrf" value="([^"]+)"/.exec(ask.text)![1]! } });
  assert.equal(done.location, '/viewer/messages?done=deleted-all');
  assert.equal(await viewer.services.store.get('all-1'), undefined);
  assert.deepEqual((await viewer.services.store.get('all-2'))?.recipients, ['alice@company.local']);
  assert.deepEqual(await auditOf('all-1'), ['carol delete']);
  assert.deepEqual(await auditOf('all-2'), ['carol delete']);
  assert.match((await viewer.services.audit.list({ limit: 1, offset: 0, search: 'delete-all' }))[0]?.detail ?? '', /^3 message\(s\) for carol@company\.local/);
});

test('the list sorts, filters by date and pages by a size it validates; long text is cut, in full on the message page', { timeout: 30_000 }, async () => {
  const day = 86400_000;
  const start = new Date(2021, 2, 10, 12, 0).getTime();
  await viewer.addMessage({
    id: 's-small',
    recipients: ['bob@company.local'],
    subject: 'Sort small',
    size: 100,
    detail: 'score=7.5 required=5',
    receivedAt: new Date(start),
  });
  await viewer.addMessage({
    id: 's-big',
    recipients: ['bob@company.local'],
    subject: 'Sort big',
    size: 90_000,
    detail: 'score=22 required=5',
    receivedAt: new Date(start + day),
  });
  await viewer.addMessage({
    id: 's-mid',
    recipients: ['bob@company.local'],
    subject: 'Sort mid',
    size: 5_000,
    detail: 'score=11 required=5',
    receivedAt: new Date(start + 2 * day),
  });
  const long = `Win ${'a very long subject '.repeat(260)}END-OF-SUBJECT`;
  await viewer.addMessage({ id: 's-long', recipients: ['bob@company.local'], subject: long, headerFrom: `${'x'.repeat(400)}@long.example` });
  const bob = viewer.browser('10.3.4.1');
  await bob.login('bob', 'bob-password-1');
  const order = (text: string) => [...text.matchAll(/>Sort (small|big|mid)</g)].map((m) => m[1]);

  const range = '&since=2021-03-10&until=2021-03-12';
  assert.deepEqual(order((await bob.request(`/viewer/messages?sort=size&dir=asc${range}`)).text), ['small', 'mid', 'big']);
  assert.deepEqual(order((await bob.request(`/viewer/messages?sort=score${range}`)).text), ['big', 'mid', 'small'], 'score: highest first by default');
  assert.deepEqual(order((await bob.request(`/viewer/messages?sort=date&dir=asc${range}`)).text), ['small', 'big', 'mid']);
  assert.deepEqual(order((await bob.request('/viewer/messages?since=2021-03-11&until=2021-03-11')).text), ['big'], 'both ends of the range are whole days');
  assert.deepEqual(
    order((await bob.request('/viewer/messages?since=2021-02-31&sort=nonsense&dir=sideways&q=Sort')).text),
    ['mid', 'big', 'small'],
    'bad values mean the defaults',
  );
  const sizeLink = await bob.request(`/viewer/messages?sort=size${range}`);
  assert.match(
    sizeLink.text,
    /href="\/viewer\/messages\?since=2021-03-10&amp;until=2021-03-12&amp;sort=size&amp;dir=asc"/,
    'the heading turns the order round and keeps the range',
  );

  const one = await bob.request('/viewer/messages?size=1&q=Sort');
  assert.equal(order(one.text).length, 3, 'size=1 is held at 10');
  for (const size of ['1e9', '-4', 'x', 'Infinity']) {
    const page = await bob.request(`/viewer/messages?size=${size}&page=2`);
    assert.equal(page.status, 200, `size=${size}`);
  }
  assert.match((await bob.request('/viewer/messages?size=25')).text, /<option value="25" selected="">25<\/option>/);

  const list = (await bob.request('/viewer/messages')).text;
  assert.doesNotMatch(list, /END-OF-SUBJECT/, 'the list carries the start of the subject only');
  assert.ok(list.length < 60_000, `the page stays small: ${list.length}`);
  assert.match(list, /<span title="Spam score">22\.0<\/span>/);
  assert.match(list, /87.9 KB|88 KB/);
  assert.match(list, /<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d UTC(?:[+-]\d\d:\d\d)?">/, 'time with its zone');
  const page = await bob.request('/viewer/messages/s-long');
  assert.match(page.text, /END-OF-SUBJECT/, 'the full subject on the message page');
  assert.match((await bob.request('/viewer/messages/s-big')).text, /Spam score<\/th><td>22\.0/);
});

test('the administrator clears the quarantine only through a confirmation page', { timeout: 30_000 }, async () => {
  const admin = viewer.browser('10.3.5.1');
  await admin.login('vadmin', 'admin-password-1');
  assert.match((await admin.request('/viewer/admin')).text, /<form method="get" action="\/viewer\/admin\/clear">/);
  const total = await viewer.services.store.count();
  assert.ok(total > 0);
  const ask = await admin.request('/viewer/admin/clear');
  assert.match(ask.text, new RegExp(`All ${total} messages .* will be deleted`));
  assert.equal(await viewer.services.store.count(), total, 'the page deleted nothing');
  const bob = viewer.browser('10.3.5.2');
  await bob.login('bob', 'bob-password-1');
  assert.equal((await bob.request('/viewer/admin/clear')).status, 403);
  assert.equal((await bob.post('/viewer/admin/clear')).status, 403);
  assert.equal((await bob.post('/viewer/messages/delete-all')).status, 303, 'bob’s own Delete All still works');
  const done = await admin.request('/viewer/admin/clear', { form: { _csrf: /name="_csrf" value="([^"]+)"/.exec(ask.text)![1]! } });
  assert.equal(done.location, '/viewer/admin?done=cleared');
  assert.equal(await viewer.services.store.count(), 0);
  assert.match((await viewer.services.audit.list({ limit: 1, offset: 0, search: 'clear' }))[0]?.detail ?? '', /message\(s\)$/);
});

test('404 and 403 pages keep the menu for a logged-in user; the lists and the digest have their own places', { timeout: 30_000 }, async () => {
  const alice = viewer.browser('10.3.6.1');
  await alice.login('alice', 'alice-password-1');
  const missing = await alice.request('/viewer/no-such-page');
  assert.equal(missing.status, 404);
  assert.match(missing.text, /<nav>[\s\S]*Log out alice/);
  const forbidden = await alice.request('/viewer/admin/users');
  assert.equal(forbidden.status, 403);
  assert.match(forbidden.text, /<nav>[\s\S]*Allow &amp; block lists[\s\S]*Log out alice/);
  assert.match((await alice.request('/viewer/messages/nope')).text, /<nav>/);
  assert.doesNotMatch((await viewer.browser('10.3.6.2').request('/viewer/a/junk')).text, /<nav>/, 'no menu without a session');

  const lists = await alice.request('/viewer/lists');
  assert.match(lists.text, /<title>Allow &amp; block lists/);
  assert.doesNotMatch(lists.text, /frequency/, 'the digest is no longer on the lists page');
  const digest = await alice.request('/viewer/account/digest');
  assert.match(digest.text, /Quarantine digest/);
  const saved = await alice.request('/viewer/account/digest', { form: { _csrf: /name="_csrf" value="([^"]+)"/.exec(digest.text)![1]!, frequency: 'weekly' } });
  assert.equal(saved.location, '/viewer/account/digest?done=digest');
  assert.equal(await viewer.services.settings.userFrequency((await viewer.services.accounts.findByName('alice'))!.id), 'weekly');
  assert.match((await alice.request(saved.location)).text, /<option value="weekly" selected="">/);
});
