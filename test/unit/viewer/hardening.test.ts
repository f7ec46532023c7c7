// Issue 20's holes, each tried as the attacker did, in-process with app.request(): big bodies,
// wildcard list entries from a message, parallel and spread-out password guessing, one recipient's
// release hiding the message from the others, Bcc recipients shown, vadmin's initial password from
// the network, downloads past release approval, sessions that outlive a password change.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startTestViewer, type TestViewer } from './harness.js';

let viewer: TestViewer;

before(async () => {
  viewer = await startTestViewer();
  const { accounts } = viewer.services;
  for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
    await accounts.create({ username: name, password: `${name}-password-1`, source: 'local', addresses: [`${name}@company.local`] });
  }
  await accounts.setPassword((await accounts.findByName('vadmin'))!.id, 'admin-password-1');
});

test('a form body past the limit is refused with 413 before anything reads it, logged in or not', async () => {
  const anonymous = viewer.browser('10.1.0.1');
  const token = await anonymous.csrf('/viewer/login');
  const huge = await anonymous.request('/viewer/login', {
    body: `_csrf=${token}&username=alice&password=${'x'.repeat(1024 * 1024)}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(huge.status, 413);
  const alice = viewer.browser('10.1.0.2');
  await alice.login('alice', 'alice-password-1');
  const big = await alice.request('/viewer/lists/add', {
    form: { _csrf: await alice.csrf('/viewer/lists'), pattern: 'a@b.example', kind: 'block', padding: 'y'.repeat(100 * 1024) },
  });
  assert.equal(big.status, 413);
  assert.equal((await viewer.services.lists.list((await viewer.services.accounts.findByName('alice'))!.id)).length, 0, 'nothing was added');
  const small = await alice.request('/viewer/lists/add', { form: { _csrf: await alice.csrf('/viewer/lists'), pattern: 'a@b.example', kind: 'block' } });
  assert.equal(small.status, 303, 'an ordinary form still works');
});

test('Block sender and Not spam on a message from <*@domain> make an exact entry or none, and the buttons name it', async () => {
  await viewer.addMessage({ id: 'm-wild', recipients: ['bob@company.local'], mailFrom: 'bounce@mailer.example', headerFrom: 'Bank <*@bank.example>' });
  await viewer.addMessage({ id: 'm-wild-only', recipients: ['bob@company.local'], mailFrom: '', headerFrom: '<*@bank.example>' });
  const bob = viewer.browser('10.1.0.3');
  await bob.login('bob', 'bob-password-1');
  const list = await bob.request('/viewer/messages');
  assert.match(list.text, /Block bounce@mailer\.example/);
  assert.doesNotMatch(list.text, /\*@bank\.example<\/button>|allow \*@bank/);
  const blocked = await bob.post('/viewer/messages/m-wild/block-sender');
  assert.match(blocked.location ?? '', /done=blocked/);
  const refused = await bob.post('/viewer/messages/m-wild-only/block-sender');
  assert.equal(refused.status, 409, 'no exact address: nothing to block');
  const bobId = (await viewer.services.accounts.findByName('bob'))!.id;
  assert.deepEqual(
    (await viewer.services.lists.list(bobId)).map((e) => e.pattern),
    ['bounce@mailer.example'],
  );

  // The administrator's click would have gone on the global list.
  await viewer.addMessage({ id: 'm-wild-admin', recipients: ['bob@company.local'], mailFrom: '', headerFrom: '<*@bank.example>' });
  const admin = viewer.browser('10.1.0.4');
  await admin.login('vadmin', 'admin-password-1');
  await admin.post('/viewer/messages/m-wild-admin/not-spam');
  assert.deepEqual(
    (await viewer.services.lists.list(null)).map((e) => e.pattern),
    [],
    'no wildcard on the global allow list',
  );

  // A digest link's confirm page names the exact entry on its button.
  await viewer.addMessage({ id: 'm-wild-link', recipients: ['bob@company.local'], mailFrom: 'bounce@mailer.example', headerFrom: '<*@bank.example>' });
  const token = viewer.services.tokens.sign({ action: 'block-sender', messageId: 'm-wild-link', userId: bobId, expiresAt: Date.now() + 60_000 });
  const page = await viewer.browser('10.1.0.5').request(`/viewer/a/${token}`);
  assert.match(page.text, /<button type="submit">Block bounce@mailer\.example<\/button>/);
});

test('parallel wrong passwords from one address are counted before they are checked', async () => {
  const tries = Array.from({ length: 12 }, () => viewer.browser('10.1.1.1'));
  const tokens = await Promise.all(tries.map((b) => b.csrf('/viewer/login')));
  const answers = await Promise.all(
    tries.map((b, i) => b.request('/viewer/login', { form: { _csrf: tokens[i]!, username: 'carol', password: `guess-${i}` } })),
  );
  const statuses = answers.map((a) => a.status);
  assert.equal(statuses.filter((s) => s === 401).length, 5, `five checked, the rest refused: ${statuses}`);
  assert.equal(statuses.filter((s) => s === 429).length, 7);
});

test('guesses spread over many addresses meet the per-account limit, which backs off', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await viewer.browser(`10.1.2.${i + 1}`).login('dave', `guess-${i}`)).status);
  assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
  const right = await viewer.browser('10.1.2.100').login('DAVE', 'dave-password-1');
  assert.equal(right.status, 429, 'another spelling and a fresh address gain nothing');
  assert.ok(Number(right.headers.get('retry-after')) > 0);
  assert.match(right.text, /Too many failed logins\. Wait \d+ seconds/);
  assert.equal((await viewer.browser('10.1.2.101').login('erin', 'erin-password-1')).status, 303, 'other accounts are not held up');
});

test('the change-password form counts wrong current passwords like the login, in parallel too', async () => {
  const frank = viewer.browser('10.1.3.1');
  await frank.login('frank', 'frank-password-1');
  const token = await frank.csrf('/viewer/account/password');
  const answers = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      frank.request('/viewer/account/password', { form: { _csrf: token, current: `guess-${i}`, next: 'new-password-123', again: 'new-password-123' } }),
    ),
  );
  const statuses = answers.map((a) => a.status);
  assert.equal(statuses.filter((s) => s === 400).length, 5, `${statuses}`);
  assert.equal(statuses.filter((s) => s === 429).length, 3);
  const right = await frank.request('/viewer/account/password', {
    form: { _csrf: token, current: 'frank-password-1', next: 'new-password-123', again: 'new-password-123' },
  });
  assert.equal(right.status, 429, 'not even the right one, until the wait is over');
});

test('one recipient’s release leaves the message waiting for the others: list, digest, store and audit', async () => {
  await viewer.addMessage({ id: 'm-shared', recipients: ['alice@company.local', 'bob@company.local'], subject: 'Shared offer' });
  const alice = viewer.browser('10.1.4.1');
  await alice.login('alice', 'alice-password-1');
  await alice.post('/viewer/messages/m-shared/release');
  assert.deepEqual(viewer.sent.at(-1)?.to, ['alice@company.local']);
  assert.deepEqual(
    (await viewer.services.store.get('m-shared'))?.releases.map((r) => r.address),
    ['alice@company.local'],
  );
  assert.match((await alice.request('/viewer/messages')).text, /Shared offer[\s\S]*?· released/);

  const bob = viewer.browser('10.1.4.2');
  await bob.login('bob', 'bob-password-1');
  const row = /<tr>(?:(?!<\/tr>)[\s\S])*Shared offer[\s\S]*?<\/tr>/.exec((await bob.request('/viewer/messages')).text)?.[0] ?? '';
  assert.ok(row, 'bob still sees it');
  assert.doesNotMatch(row, /released/);
  const { sendDigest } = await import('../../../runtime/digest/run.js');
  const report = await sendDigest(viewer.services, (await viewer.services.accounts.findByName('bob'))!, 0, new Date());
  assert.equal(report.outcome, 'sent');
  assert.match(viewer.sent.at(-1)!.raw, /Shared offer/, 'in bob’s digest');
  const forAlice = await sendDigest(viewer.services, (await viewer.services.accounts.findByName('alice'))!, 0, new Date());
  assert.equal(forAlice.outcome, 'empty', 'not in alice’s: hers was released');

  await bob.post('/viewer/messages/m-shared/release');
  assert.deepEqual(viewer.sent.at(-1)?.to, ['bob@company.local'], 'bob gets his copy');
  const released = (await viewer.services.audit.list({ limit: 10, offset: 0, search: 'm-shared' }))
    .filter((r) => r.action === 'release')
    .map((r) => [r.actor, r.detail]);
  assert.deepEqual(released, [
    ['bob', 'to bob@company.local'],
    ['alice', 'to alice@company.local'],
  ]);
});

test('a second Release of a released message asks before sending another copy', async () => {
  await viewer.addMessage({ id: 'm-twice', recipients: ['erin@company.local'], subject: 'Twice' });
  const erin = viewer.browser('10.1.5.1');
  await erin.login('erin', 'erin-password-1');
  await erin.post('/viewer/messages/m-twice/release');
  const before = viewer.sent.length;
  const again = await erin.post('/viewer/messages/m-twice/release');
  assert.equal(again.status, 200);
  assert.match(again.text, /Already released/);
  assert.match(again.text, /name="again" value="1"/);
  assert.equal(viewer.sent.length, before, 'nothing sent yet');
  await erin.post('/viewer/messages/m-twice/release', { again: '1' });
  assert.equal(viewer.sent.length, before + 1, 'another copy, once asked for');
  const token = viewer.services.tokens.sign({
    action: 'release',
    messageId: 'm-twice',
    userId: (await viewer.services.accounts.findByName('erin'))!.id,
    expiresAt: Date.now() + 60_000,
  });
  assert.match((await viewer.browser('10.1.5.2').request(`/viewer/a/${token}`)).text, /already released to you/);
});

test('a user sees only their own addresses among the recipients: list, message page, digest', async () => {
  await viewer.addMessage({ id: 'm-bcc', recipients: ['alice@company.local', 'carol@company.local'], headerTo: 'alice@company.local', subject: 'Quiet copy' });
  const alice = viewer.browser('10.1.6.1');
  await alice.login('alice', 'alice-password-1');
  assert.doesNotMatch((await alice.request('/viewer/messages')).text, /carol@company\.local/);
  const page = await alice.request('/viewer/messages/m-bcc');
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.text, /carol@company\.local/);
  const { sendDigest } = await import('../../../runtime/digest/run.js');
  await sendDigest(viewer.services, (await viewer.services.accounts.findByName('alice'))!, Date.now() - 60_000, new Date());
  const digest = viewer.sent.at(-1)!.raw;
  assert.match(digest, /Quiet copy/);
  assert.doesNotMatch(digest, /carol@company\.local/);
});

test('vadmin’s initial password works only from the appliance itself', async () => {
  const fresh = await startTestViewer();
  const outside = await fresh.browser('192.168.1.50').login('vadmin', 'password');
  assert.equal(outside.status, 403);
  assert.match(outside.text, /only from the appliance itself/);
  assert.equal((await fresh.browser('192.168.1.50').login('VAdmin', 'password')).status, 403, 'whatever the spelling');
  assert.equal((await fresh.browser('127.0.0.1').login('vadmin', 'password')).location, '/viewer/account/password');
  assert.ok((await fresh.services.audit.list({ limit: 10, offset: 0, search: 'login-failed' })).some((r) => r.client === '192.168.1.50'));
  await fresh.services.accounts.setPassword((await fresh.services.accounts.findByName('vadmin'))!.id, 'a-chosen-password');
  assert.equal((await fresh.browser('192.168.1.50').login('vadmin', 'a-chosen-password')).location, '/viewer/admin', 'once set, from anywhere');
});

test('downloads: users only what they release themselves; the administrator anything, a virus after confirming', async () => {
  assert.deepEqual(viewer.services.config.viewer.allowedDownloadTypes, ['SPAM', 'BADH'], 'BANNED is not downloadable by default');
  const permissive = await startTestViewer({ viewer: { allowedDownloadTypes: ['SPAM', 'BANNED', 'BADH', 'VIRUS'] } });
  await permissive.services.accounts.create({ username: 'gina', password: 'gina-password-1', source: 'local', addresses: ['gina@company.local'] });
  await permissive.services.accounts.setPassword((await permissive.services.accounts.findByName('vadmin'))!.id, 'admin-password-1');
  for (const reason of ['SPAM', 'BANNED', 'VIRUS'] as const) await permissive.addMessage({ id: `d-${reason}`, recipients: ['gina@company.local'], reason });
  const gina = permissive.browser('10.1.7.1');
  await gina.login('gina', 'gina-password-1');
  assert.equal((await gina.request('/viewer/messages/d-SPAM/download')).status, 200);
  assert.equal((await gina.request('/viewer/messages/d-BANNED/download')).status, 403, 'its release needs the administrator, so does its download');
  assert.equal((await gina.request('/viewer/messages/d-VIRUS/download')).status, 403);
  assert.equal((await gina.post('/viewer/messages/d-VIRUS/download')).status, 403);
  assert.doesNotMatch((await gina.request('/viewer/messages')).text, /d-BANNED\/download/);

  const admin = permissive.browser('10.1.7.2');
  await admin.login('vadmin', 'admin-password-1');
  const banned = await admin.request('/viewer/messages/d-BANNED/download');
  assert.equal(banned.headers.get('content-type'), 'message/rfc822');
  const ask = await admin.request('/viewer/messages/d-VIRUS/download');
  assert.match(ask.headers.get('content-type') ?? '', /text\/html/, 'a page first, not the file');
  assert.match(ask.text, /Download it anyway/);
  const file = await admin.request('/viewer/messages/d-VIRUS/download', { form: { _csrf: /name="_csrf" value="([^"]+)"/.exec(ask.text)![1]! } });
  assert.equal(file.headers.get('content-type'), 'message/rfc822');
  assert.ok((await permissive.services.audit.list({ limit: 5, offset: 0, search: 'd-VIRUS' })).some((r) => /virus download confirmed/.test(r.detail)));
});

test('a password change ends every other session of that user and gives the changer a fresh one', async () => {
  const here = viewer.browser('10.1.8.1');
  const there = viewer.browser('10.1.8.2');
  await here.login('erin', 'erin-password-1');
  await there.login('erin', 'erin-password-1');
  const oldCookie = here.cookies.get('mf_session');
  const changed = await here.request('/viewer/account/password', {
    form: { _csrf: await here.csrf('/viewer/account/password'), current: 'erin-password-1', next: 'erin-password-2', again: 'erin-password-2' },
  });
  assert.equal(changed.location, '/viewer/messages?done=password');
  assert.notEqual(here.cookies.get('mf_session'), oldCookie, 'a fresh session');
  assert.equal((await here.request('/viewer/messages')).status, 200);
  assert.equal((await there.request('/viewer/messages')).location, '/viewer/login', 'the other browser is logged out');
  const stale = viewer.browser('10.1.8.3');
  stale.cookies.set('mf_session', oldCookie!);
  assert.equal((await stale.request('/viewer/messages')).location, '/viewer/login', 'the old cookie is dead');
});
