// Digests, their one-click links, "Not spam", sender lists and release approval, through the real
// chain: Postfix, our filter, clamd and spamd (learning allowed), Postfix's re-injection, the sink
// as the organisation's mail server, the real HTTPS viewer, and Chromium for the administrator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, logIn } from '../support/chromium.js';
import { startChain, type Chain } from '../support/chain.js';
import { buildMessage, GTUBE } from '../support/messages.js';
import { EICAR } from '../support/eicar.js';
import { freePort, waitFor } from '../support/net.js';
import type { SunkMessage } from '../support/sink.js';
import { startViewer, type RunningViewer } from '../../runtime/viewer/server.js';
import { openActionServices, type ActionServices } from '../../runtime/actions/services.js';
import { runDigests } from '../../runtime/digest/run.js';
import { logger } from '../../runtime/log.js';
import type { ViewerUser } from '../../runtime/accounts/viewer-accounts.js';

let chain: Chain;
let viewer: RunningViewer;
let services: ActionServices;
let browser: Browser;
let base: string;
let alice: ViewerUser;
const SPAMMER = 'Spammer <spammer@example.net>';

before(
  async () => {
    chain = await startChain({
      policy: { spamDestiny: 'D_DISCARD', virusDestiny: 'D_DISCARD', bannedDestiny: 'D_DISCARD' },
      viewer: { listenAddress: '127.0.0.1', httpsPort: await freePort(), httpPort: 0, adminEmail: 'it@company.com' },
    });
    viewer = await startViewer(chain.config);
    base = `https://127.0.0.1:${viewer.httpsPort}`;
    // The digest run is its own process on the appliance (a timer); here, its own set of handles.
    services = await openActionServices({ ...chain.config, viewer: { ...chain.config.viewer, publicUrl: `${base}/viewer` } });
    alice = await viewer.accounts.create({ username: 'alice', password: 'alices-password', source: 'local', addresses: ['alice@company.com'] });
    await viewer.accounts.create({ username: 'bob', password: 'bobs-password-1', source: 'local', addresses: ['bob@company.com'] });
    browser = await launchChromium();
  },
  { timeout: 240_000 },
);

after(async () => {
  await browser?.close();
  await services?.close();
  await viewer?.close();
  await chain?.stop();
});

/** A plain HTTPS request, as a mail client's link scanner or a user's browser without cookies. */
function fetchPage(url: string, method: 'GET' | 'POST' = 'GET'): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method, rejectUnauthorized: false, headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

let seq = 0;
const subjectOf = (label: string) => `${label} #${++seq}`;

async function quarantined(subject: string, count = 1) {
  return waitFor(
    `"${subject}" quarantined`,
    async () => {
      const found = await chain.filter.store.list({ search: subject });
      return found.length >= count ? found : undefined;
    },
    60_000,
  );
}

async function send(subject: string, to: string[], body: string, attachments?: Array<{ filename: string; content: string }>) {
  const sent = await chain.send(buildMessage({ from: SPAMMER, to: to.join(', '), subject, body, ...(attachments ? { attachments } : {}) }), {
    from: 'spammer@example.net',
    to,
  });
  assert.deepEqual(sent.accepted.sort(), [...to].sort(), `Postfix took "${subject}": ${sent.response}`);
}

/** The links of one digest, by message subject and action label. */
async function digestLinks(message: SunkMessage): Promise<{ text: string; html: string; link(subject: string, label: string): string }> {
  const parsed = await simpleParser(message.raw);
  const text = parsed.text ?? '';
  return {
    text,
    html: typeof parsed.html === 'string' ? parsed.html : '',
    link(subject, label) {
      const block = text.split('\n* ').find((b) => b.startsWith(subject));
      const url = block && new RegExp(`^  ${label}: (\\S+)$`, 'm').exec(block)?.[1];
      assert.ok(url, `a "${label}" link for "${subject}" in:\n${text}`);
      return url;
    },
  };
}

const released = (subject: string) => chain.sink.messages.filter((m) => m.raw.includes(subject) && m.raw.includes('X-Mailfilter-Released'));

let digest: Awaited<ReturnType<typeof digestLinks>>;
const gtubeSubject = subjectOf('Cheap watches');
const teamSubject = subjectOf('Team offer');

test('a spam and a multi-recipient spam are quarantined, and each recipient’s digest lists what is theirs', async () => {
  await send(gtubeSubject, ['alice@company.com'], `${GTUBE}\r\n`);
  await send(teamSubject, ['alice@company.com', 'bob@company.com'], `${GTUBE}\r\n`);
  await quarantined(gtubeSubject);
  const [team] = await quarantined(teamSubject);
  assert.deepEqual(team!.recipients.sort(), ['alice@company.com', 'bob@company.com'], 'one quarantine entry for both');

  const reports = await runDigests(services, logger('digest'), { force: true });
  assert.deepEqual(
    reports.map((r) => [r.user, r.outcome, r.messages]),
    [
      ['alice', 'sent', 2],
      ['bob', 'sent', 1],
    ],
  );
  const forAlice = await chain.sink.waitFor((m) => /^X-Mailfilter-Digest: alice$/m.test(m.raw), 60_000);
  const forBob = await chain.sink.waitFor((m) => /^X-Mailfilter-Digest: bob$/m.test(m.raw), 60_000);
  assert.deepEqual(forAlice.to, ['alice@company.com']);
  digest = await digestLinks(forAlice);
  assert.match(digest.text, new RegExp(`${gtubeSubject}[\\s\\S]*Not spam: https://`));
  assert.match(digest.text, new RegExp(teamSubject.replace('#', '#')));
  assert.match(digest.html, /<table/);
  const bobs = await digestLinks(forBob);
  assert.match(bobs.text, new RegExp(teamSubject));
  assert.doesNotMatch(bobs.text, new RegExp(gtubeSubject), 'bob sees only his');

  const again = await runDigests(services, logger('digest'), { force: true });
  assert.deepEqual(
    again.map((r) => r.outcome),
    ['empty', 'empty'],
    'nothing new: no digest',
  );
});

test('a scanner’s GET of a link changes nothing; the confirm POST releases once; tampered and expired links are refused', async () => {
  const link = digest.link(teamSubject, 'Release');
  for (let i = 0; i < 3; i++) {
    const page = await fetchPage(link);
    assert.equal(page.status, 200);
    assert.match(page.text, /Release this message\?/);
    assert.match(page.text, /<form method="post"/);
  }
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(released(teamSubject).length, 0, 'opening the link released nothing');
  assert.deepEqual((await services.store.list({ search: teamSubject }))[0]?.releases, []);

  const done = await fetchPage(link, 'POST');
  assert.equal(done.status, 200, done.text);
  assert.match(done.text, /Released/);
  const delivered = await chain.sink.waitFor((m) => m.raw.includes(teamSubject) && m.raw.includes('X-Mailfilter-Released'), 60_000);
  assert.deepEqual(delivered.to, ['alice@company.com'], 'released to alice only; bob keeps his copy');

  const reused = await fetchPage(link, 'POST');
  assert.equal(reused.status, 410);
  assert.match(reused.text, /already used/);
  assert.match((await fetchPage(link)).text, /already used/);

  const other = digest.link(gtubeSubject, 'Delete');
  const [payload, mac] = other.split('/a/')[1]!.split('.') as [string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const forged = `${base}/viewer/a/${Buffer.from(JSON.stringify({ ...claims, messageId: (await services.store.list({ search: teamSubject }))[0]!.id })).toString('base64url')}.${mac}`;
  const tampered = await fetchPage(forged, 'POST');
  assert.equal(tampered.status, 400);
  assert.match(tampered.text, /not valid/);
  const expired = services.tokens.sign({ action: 'delete', messageId: claims.messageId, userId: alice.id, expiresAt: Date.now() - 60_000 });
  const late = await fetchPage(`${base}/viewer/a/${expired}`, 'POST');
  assert.equal(late.status, 410);
  assert.match(late.text, /expired/);
  assert.ok(await services.store.get(claims.messageId), 'the message is still there');
  assert.equal(released(teamSubject).length, 1, 'released exactly once');
});

test('"Not spam" releases, teaches spamd, and allows the sender: their next spam is delivered to alice, their virus still quarantined', async () => {
  const done = await fetchPage(digest.link(gtubeSubject, 'Not spam'), 'POST');
  assert.equal(done.status, 200, done.text);
  assert.match(done.text, /no longer be treated as spam/);
  await chain.sink.waitFor((m) => m.raw.includes(gtubeSubject) && m.raw.includes('X-Mailfilter-Released'), 60_000);
  const magic = execFileSync('sa-learn', ['--dbpath', chain.spamd.bayesDir, '--dump', 'magic'], { encoding: 'utf8' });
  assert.match(magic, /\s1\s+0\s+non-token data: nham/, `spamd learned one ham:\n${magic}`);
  assert.deepEqual(
    (await services.lists.list(alice.id)).map((e) => [e.kind, e.pattern]),
    [['allow', 'spammer@example.net']],
  );

  const next = subjectOf('More watches');
  await send(next, ['alice@company.com', 'bob@company.com'], `${GTUBE}\r\n`);
  const toAlice = await chain.sink.waitFor((m) => m.raw.includes(next), 60_000);
  assert.deepEqual(toAlice.to, ['alice@company.com'], 'delivered to alice, who allowed the sender');
  assert.match(toAlice.raw, /^X-Mailfilter-List: sender spammer@example.net allowed \(alice list/m);
  const [forBob] = await quarantined(next);
  assert.deepEqual(forBob!.recipients, ['bob@company.com'], 'still spam for bob');

  // Bob blocks the sender from his digest: their next clean message to him is held, not delivered.
  const bobsDigest = await digestLinks(chain.sink.messages.find((m) => /^X-Mailfilter-Digest: bob$/m.test(m.raw))!);
  const blockedPage = await fetchPage(bobsDigest.link(teamSubject, 'Block sender'), 'POST');
  assert.match(blockedPage.text, /Mail from spammer@example.net will be discarded/);
  const hello = subjectOf('Hello again');
  await send(hello, ['bob@company.com'], 'Just saying hello.\r\n');
  const [held2] = await quarantined(hello);
  assert.deepEqual([held2!.reason, held2!.detail], ['SPAM', 'sender spammer@example.net blocked (bob list: spammer@example.net)']);
  const digestsBefore = chain.sink.messages.length;
  const reports = await runDigests(services, logger('digest'), { force: true });
  assert.deepEqual(
    reports.map((r) => [r.user, r.outcome, r.messages]),
    [
      ['alice', 'empty', 0],
      ['bob', 'sent', 1],
    ],
    'bob’s blocked mail is held but not put before him again',
  );
  const bobsNext = await chain.sink.waitFor((m) => chain.sink.messages.indexOf(m) >= digestsBefore && /^X-Mailfilter-Digest: bob$/m.test(m.raw), 60_000);
  const listed = await digestLinks(bobsNext);
  assert.match(listed.text, new RegExp(next));
  assert.doesNotMatch(listed.text, new RegExp(hello));

  const virus = subjectOf('Invoice');
  await send(virus, ['alice@company.com'], 'see attached\r\n', [{ filename: 'invoice.txt', content: EICAR }]);
  const [held] = await quarantined(virus);
  assert.equal(held!.reason, 'VIRUS', 'an allowed sender’s virus is still quarantined');
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  return context.newPage();
}

const login = (page: Page, username: string, password: string) => logIn(page, base, username, password);

test('a user’s release of a VIRUS message becomes a request; the administrator approves it in Chromium; the audit log shows each step', async () => {
  const [virus] = await services.store.list({ search: 'Invoice', reason: 'VIRUS' });
  assert.ok(virus);
  const user = await newPage();
  await login(user, 'alice', 'alices-password');
  const row = user.locator('tbody tr', { hasText: virus.subject });
  // The row's actions are in its menu.
  await row.locator('summary').click();
  await row.locator('button:has-text("Ask to release")').click();
  assert.match((await user.textContent('.notice.ok')) ?? '', /request was sent/);
  assert.match((await user.locator('tbody tr', { hasText: virus.subject }).textContent()) ?? '', /release requested/);
  assert.equal(released(virus.subject).length, 0, 'nothing released yet');
  const notice = await chain.sink.waitFor((m) => m.raw.includes('Release request from alice'), 60_000);
  assert.deepEqual(notice.to, ['it@company.com'], 'the administrator is told');
  assert.match(notice.raw, /\/viewer\/admin\/requests/);

  const admin = await newPage();
  await login(admin, 'vadmin', 'password');
  await admin.fill('#current', 'password');
  await admin.fill('#next', 'correct horse battery');
  await admin.fill('#again', 'correct horse battery');
  await admin.click('main button[type=submit]');
  assert.match((await admin.textContent('main')) ?? '', /1 request to decide/);
  await admin.click('text=1 request to decide');
  const request = admin.locator('tbody tr', { hasText: virus.subject });
  assert.match((await request.textContent()) ?? '', /alice.*VIRUS/s);
  await admin.screenshot({ path: join(chain.dir, 'release-requests.png'), fullPage: true });
  await request.locator('button:has-text("Approve")').click();
  assert.match((await admin.textContent('.notice.ok')) ?? '', /Approved: the message was released to the requester’s addresses/);
  const delivered = await chain.sink.waitFor((m) => m.raw.includes(virus.subject) && m.raw.includes('X-Mailfilter-Released'), 60_000);
  assert.deepEqual(delivered.to, ['alice@company.com']);
  const told = await chain.sink.waitFor((m) => m.raw.includes('Release request approved'), 60_000);
  assert.deepEqual(told.to, ['alice@company.com'], 'alice is told');

  await user.goto(`${base}/viewer/messages`);
  assert.match((await user.locator('tbody tr', { hasText: virus.subject }).textContent()) ?? '', /release approved by vadmin/);
  await user.goto(`${base}/viewer/lists`);
  assert.match((await user.textContent('tbody')) ?? '', /spammer@example\.net\s*allow\s*never/);
  await user.screenshot({ path: join(chain.dir, 'lists.png'), fullPage: true });
  // A digest link as a browser shows it (a fresh token for a message still held for alice).
  const fresh = subjectOf('Fresh offer');
  const sent = await chain.send(buildMessage({ from: 'Other <other@example.org>', to: 'alice@company.com', subject: fresh, body: `${GTUBE}\r\n` }), {
    from: 'other@example.org',
    to: ['alice@company.com'],
  });
  assert.deepEqual(sent.accepted, ['alice@company.com']);
  const [held] = await quarantined(fresh);
  await user.goto(`${base}/viewer/a/${services.tokens.sign({ action: 'delete', messageId: held!.id, userId: alice.id, expiresAt: Date.now() + 3600_000 })}`);
  assert.match((await user.textContent('h1')) ?? '', /Delete this message\?/);
  await user.screenshot({ path: join(chain.dir, 'confirm.png'), fullPage: true });
  await user.click('button:has-text("Delete")');
  assert.match((await user.textContent('.notice.ok')) ?? '', /Deleted/);
  assert.equal(await services.store.get(held!.id), undefined, 'the POST from the page, with the browser’s Origin, did it');

  await admin.goto(`${base}/viewer/admin/audit`);
  await admin.screenshot({ path: join(chain.dir, 'audit.png'), fullPage: true });
  const log = (await admin.locator('table.audit tbody').innerText()).split('\n');
  const has = (pattern: RegExp, what: string) =>
    assert.ok(
      log.some((line) => pattern.test(line)),
      `${what} in the audit log:\n${log.join('\n')}`,
    );
  has(/system\tdigest\t\t2 message\(s\) to alice@company.com/, 'the digest');
  has(/alice \(digest link\)\trelease\t\S+\tto alice@company.com\t127\.0\.0\.1/, 'the link release');
  has(/link-refused\t\S*\tPOST: tampered/, 'the tampered link');
  has(/link-refused\t\S+\tPOST: expired/, 'the expired link');
  has(/alice \(digest link\)\tlink-refused\t\S+\t(POST|GET): already used/, 'the reused link');
  has(/bob \(digest link\)\tblock-sender\t\S+\tspammer@example.net added to bob block list; message deleted/, 'bob’s block');
  has(/alice \(digest link\)\tnot-spam\t\S+\treleased; learned as ham: DidSet: local; spammer@example.net added to alice allow list/, 'not spam');
  has(/alice\trequest\t\S+\tVIRUS: .*; it@company.com told/, 'the request');
  has(/vadmin\tapprove\t\S+\trequest \d+ of alice for alice@company.com; alice told by e-mail/, 'the approval');
  await user.context().close();
  await admin.context().close();
});
