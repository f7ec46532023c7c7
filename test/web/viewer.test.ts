// The viewer in a real browser (Debian's Chromium, headless) against the real HTTPS server: the
// administrator's first login, adding a user, that user's messages, safe view, release, delete; the
// list at 1280 px and on a phone, with a 5 KB subject, no wider than the screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, logIn } from '../support/chromium.js';
import { parseConfig } from '../../runtime/config/load.js';
import nodemailer from 'nodemailer';
import { startFilter, type RunningFilter } from '../../runtime/filter/daemon.js';
import { startClamd, type Clamd } from '../support/clamd.js';
import { startSpamd, type Spamd } from '../support/spamd.js';
import { buildMessage, GTUBE } from '../support/messages.js';
import { EICAR } from '../support/eicar.js';
import { startViewer, type RunningViewer } from '../../runtime/viewer/server.js';
import { startSink, type Sink } from '../support/sink.js';
import { freePort } from '../support/net.js';

let dir: string;
let viewer: RunningViewer;
let filter: RunningFilter;
let clamd: Clamd;
let spamd: Spamd;
let sink: Sink;
let browser: Browser;
let base: string;
const requests: string[] = [];
const dialogs: string[] = [];
const LONG_SUBJECT = `Act now ${'X'.repeat(240)}${Array.from({ length: 110 }, (_, i) => `\r\n limited offer number ${i} for you only, today`).join('')}`;

before(
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailfilter-web-'));
    chmodSync(dir, 0o755);
    [sink, clamd, spamd] = await Promise.all([startSink(), startClamd(join(dir, 'clamd')), startSpamd(join(dir, 'spamd'))]);
    const filterPort = await freePort();
    const config = parseConfig({
      network: { hostname: 'mx.company.com' },
      // No Postfix here: the sink plays the re-injection listener, for the filter and for releases.
      postfix: { reinjectPort: sink.port },
      filter: { listenPort: filterPort, spoolDir: join(dir, 'spool') },
      clamd: { socket: clamd.socket },
      spamd: { port: spamd.port },
      policy: { spamDestiny: 'D_DISCARD' },
      quarantine: { dir: join(dir, 'quarantine') },
      viewer: { dataDir: join(dir, 'viewer'), listenAddress: '127.0.0.1', httpsPort: await freePort(), httpPort: await freePort() },
    });
    // The quarantine is filled by the real filter, with real clamd and spamd.
    filter = await startFilter(config);
    const lmtp = nodemailer.createTransport({ host: '127.0.0.1', port: filterPort, lmtp: true, ignoreTLS: true });
    const send = (to: string, raw: string) => lmtp.sendMail({ envelope: { from: 'spam@example.net', to: [to] }, raw });
    await send(
      'bob@company.local',
      buildMessage({
        from: 'Spammer <spam@example.net>',
        to: 'bob@company.local',
        subject: 'Cheap watches <script>alert("subject")</script>',
        body: `<h1>Offer</h1><script>alert("body")</script>\r\n${GTUBE}\r\n`,
      })
        .replace('Content-Type: text/plain; charset=utf-8', 'Content-Type: text/html; charset=utf-8')
        .replace('<h1>Offer</h1>', '<h1>Offer</h1><img src="http://tracker.example/pixel.gif"><p>Click <a href="http://evil.example/">here</a></p>'),
    );
    await send(
      'robert@company.com',
      buildMessage({
        to: 'robert@company.com',
        subject: 'Invoice attached',
        attachments: [{ filename: 'invoice.txt', contentType: 'text/plain', content: EICAR }],
      }),
    );
    await send('robert@company.com', buildMessage({ to: 'robert@company.com', subject: 'Lottery winner', body: `${GTUBE}\r\n` }));
    await send('carol@company.local', buildMessage({ to: 'carol@company.local', subject: 'For Carol only', body: `${GTUBE}\r\n` }));
    await send('bob@company.local', buildMessage({ to: 'bob@company.local', subject: 'Lunch on Friday?' }));
    // The spam that made the old list 8,000 px tall: a 5 KB subject, folded as mailers fold it, with
    // one long run that has no place to break.
    await send(
      'bob@company.local',
      buildMessage({
        from: `Very Long Name ${'Sender'.repeat(30)} <offers@bulk-mailer.example>`,
        to: 'bob@company.local',
        subject: LONG_SUBJECT,
        body: `${GTUBE}\r\n`,
      }),
    );
    lmtp.close();
    assert.equal(await filter.store.count(), 5, 'the filter quarantined five messages');
    // The filter writes its statistics every few seconds; the chart should show these now.
    await filter.store.flushOutcomes();
    viewer = await startViewer(config);
    base = `https://127.0.0.1:${viewer.httpsPort}`;
    browser = await launchChromium();
  },
  { timeout: 180_000 },
);

after(async () => {
  await browser?.close();
  await viewer?.close();
  await filter?.close();
  await Promise.all([sink?.stop(), clamd?.stop(), spamd?.stop()]);
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return page;
}

const login = (page: Page, username: string, password: string) => logIn(page, base, username, password);

test('HTTP redirects to HTTPS at the configured host name, never one the request names', async () => {
  for (const host of [undefined, 'evil.example']) {
    const location = await new Promise<string | undefined>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port: viewer.httpPort, path: '/', headers: host ? { host } : {} }, (res) => {
        res.resume();
        resolve(res.headers.location);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(location, `https://mx.company.com:${viewer.httpsPort}/viewer/`, `Host: ${host ?? '(the address)'}`);
  }
  const page = await newPage();
  await page.goto(`${base}/viewer/`);
  assert.equal(page.url(), `${base}/viewer/login`);
  await page.context().close();
});

test('the administrator changes the initial password, sees statistics, and adds a user', async () => {
  const page = await newPage();
  await login(page, 'vadmin', 'password');
  assert.match((await page.textContent('main')) ?? '', /still has its initial password/);
  await page.fill('#current', 'password');
  await page.fill('#next', 'correct horse battery');
  await page.fill('#again', 'correct horse battery');
  await page.click('main button[type=submit]');
  assert.equal(new URL(page.url()).pathname, '/viewer/admin');
  for (const color of ['#6aa84f', '#e6b422', '#cc3333']) {
    assert.equal(await page.locator(`svg[aria-label^="Messages per day"] rect[fill="${color}"]:has(title)`).count(), 1, `a bar part in ${color}`);
  }
  assert.match((await page.textContent('main')) ?? '', /5 messages, 0\.0 MB of 500\.0 MB/);
  await page.screenshot({ path: join(dir, 'admin-console.png'), fullPage: true });

  await page.click('text=Users');
  await page.click('text=Add User');
  await page.fill('#username', 'bob');
  await page.fill('#password', 'bobs-own-password');
  await page.fill('#addresses', 'bob@company.local\nrobert@company.com');
  await page.click('main button[type=submit]');
  assert.match((await page.textContent('table')) ?? '', /bob@company\.local, robert@company\.com/);

  await page.click('text=Add User');
  await page.fill('#username', 'thief');
  await page.fill('#password', 'thiefs-password');
  await page.fill('#addresses', 'bob@company.local');
  await page.click('main button[type=submit]');
  assert.match((await page.textContent('.notice.error')) ?? '', /bob@company\.local already belongs to bob/);
  await page.context().close();
});

/** How wide and tall the page is, against the window it is shown in. */
const measure = (page: Page) =>
  page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    scrollHeight: document.documentElement.scrollHeight,
  }));

test('the list fits a 1280 px screen and a phone, with a 5 KB subject; the row menu and the bulk confirmation too', async () => {
  for (const [name, viewport] of [
    ['desktop', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport, isMobile: name === 'phone', hasTouch: name === 'phone' });
    try {
      const page = await context.newPage();
      await login(page, 'bob', 'bobs-own-password');
      assert.equal(await page.locator('tbody tr').count(), 4);
      const long = page.locator('tbody tr', { hasText: 'Act now' });
      const size = await measure(page);
      await page.screenshot({ path: join(dir, `messages-${name}.png`), fullPage: true });
      assert.ok(size.scrollWidth <= size.innerWidth, `${name}: the page is ${size.scrollWidth} px wide in a ${size.innerWidth} px window`);
      assert.ok(size.scrollHeight < (name === 'phone' ? 1500 : 900), `${name}: the page is ${size.scrollHeight} px tall`);
      assert.ok((await long.boundingBox())!.height < (name === 'phone' ? 130 : 60), `${name}: the long subject stays one row`);

      await long.locator('summary').click();
      const menu = long.locator('.menu-items');
      assert.ok(await menu.locator('button:has-text("Release")').isVisible(), `${name}: the menu opens`);
      const box = (await menu.boundingBox())!;
      assert.ok(box.x >= 0 && box.x + box.width <= viewport.width, `${name}: the open menu is on the screen (${box.x}..${box.x + box.width})`);
      assert.ok((await measure(page)).scrollWidth <= viewport.width, `${name}: the open menu widens nothing`);
      await page.screenshot({ path: join(dir, `messages-${name}-menu.png`) });
      await long.locator('summary').click();

      // Ticking and choosing leads to a page that says what will happen; Cancel changes nothing.
      await long.locator('input[type=checkbox]').check();
      await page.locator('tbody tr', { hasText: 'Lottery winner' }).locator('input[type=checkbox]').check();
      await page.selectOption('#bulk-action', 'delete');
      await page.click('button:has-text("Apply")');
      assert.match((await page.textContent('h1')) ?? '', /Delete: 2 messages\?/);
      const confirmSize = await measure(page);
      await page.screenshot({ path: join(dir, `bulk-confirm-${name}.png`), fullPage: true });
      assert.ok(confirmSize.scrollWidth <= confirmSize.innerWidth, `${name}: the confirmation is ${confirmSize.scrollWidth} px wide`);
      await page.click('text=Cancel');
      assert.equal(await page.locator('tbody tr').count(), 4, 'nothing deleted');

      await long.locator('td.subject a').click();
      assert.match((await page.textContent('main table')) ?? '', /limited offer number 109 for you only/, `${name}: the whole subject on the message page`);
      const messageSize = await measure(page);
      await page.screenshot({ path: join(dir, `message-long-${name}.png`), fullPage: true });
      assert.ok(messageSize.scrollWidth <= messageSize.innerWidth, `${name}: the message page is ${messageSize.scrollWidth} px wide`);
    } finally {
      await context.close();
    }
  }
});

test('a user sees only their messages, safely, and can search, download, release and delete them', async () => {
  const page = await newPage();
  await login(page, 'bob', 'bobs-own-password');
  const list = (await page.textContent('table')) ?? '';
  assert.match(list, /Cheap watches/);
  assert.match(list, /Invoice attached/, 'mail to the second address is his too');
  assert.match(list, /Lottery winner/);
  assert.doesNotMatch(list, /For Carol only/);
  assert.doesNotMatch(list, /Lunch on Friday/, 'clean mail was delivered, not quarantined');
  await page.screenshot({ path: join(dir, 'messages.png'), fullPage: true });
  assert.equal(await page.locator('a[href$="/download"]').count(), 3, 'no download link for the virus');

  await page.fill('input[name=q]', 'lottery');
  await page.click('button:has-text("Filter")');
  assert.equal(await page.locator('tbody tr').count(), 1);
  await page.selectOption('select[name=reason]', 'VIRUS');
  await page.fill('input[name=q]', '');
  await page.click('button:has-text("Filter")');
  assert.match((await page.textContent('tbody')) ?? '', /Invoice attached.*VIRUS.*Eicar/s);

  await page.goto(`${base}/viewer/messages`);
  await page.click('text=Cheap watches');
  const body = (await page.textContent('pre.body')) ?? '';
  assert.match(body, /Offer/i);
  assert.match(body, /Click here/);
  assert.equal(await page.locator('main img, main script, main h1:has-text("Offer")').count(), 0, 'the message’s markup is not rendered');
  assert.match((await page.textContent('main table')) ?? '', /Cheap watches <script>alert\("subject"\)<\/script>/);
  await page.screenshot({ path: join(dir, 'message-view.png'), fullPage: true });

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('a:has-text("Download")')]);
  const saved = join(dir, 'downloaded.eml');
  await download.saveAs(saved);
  assert.match(readFileSync(saved, 'utf8'), /^Received: |Subject: Cheap watches/m);

  await page.click('button:has-text("Release")');
  assert.match((await page.textContent('.notice.ok')) ?? '', /Released/);
  const delivered = await sink.waitFor((m) => m.raw.includes('X-Mailfilter-Released'));
  assert.deepEqual(delivered.to, ['bob@company.local']);
  assert.match(delivered.raw, /Cheap watches/);

  const carols = (await filter.store.list({ search: 'For Carol only' }))[0]!;
  await page.goto(`${base}/viewer/messages/${carols.id}`);
  assert.match((await page.textContent('main')) ?? '', /No such message in your quarantine/);
  const refused = await page.request.get(`${base}/viewer/messages/${carols.id}/download`);
  assert.equal(refused.status(), 404);

  await page.goto(`${base}/viewer/messages`);
  await page.click('button:has-text("Delete All")');
  assert.match((await page.textContent('h1')) ?? '', /Delete all your quarantined messages\?/, 'a confirmation page first');
  await page.click('button:has-text("Delete all")');
  assert.match((await page.textContent('.notice.ok')) ?? '', /All your quarantined messages were deleted/);
  assert.match((await page.textContent('main')) ?? '', /No quarantined messages/);
  assert.ok(await filter.store.get(carols.id), 'Carol’s message is still there');
  await page.context().close();

  assert.deepEqual(dialogs, [], 'no script of a message ever ran');
  const foreign = requests.filter((url) => !url.startsWith(base) && !url.startsWith(`http://127.0.0.1:${viewer.httpPort}`));
  assert.deepEqual(foreign, [], 'nothing loaded from anywhere else');
});
