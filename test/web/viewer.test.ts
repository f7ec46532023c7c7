// The viewer in a real browser (Debian's Chromium, headless) against the real HTTPS server: the
// administrator's first login, adding a user, that user's messages, safe view, release, delete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseConfig } from '../../runtime/config/load.js';
import { QuarantineStore } from '../../runtime/quarantine/store.js';
import { startViewer, type RunningViewer } from '../../runtime/viewer/server.js';
import { startSink, type Sink } from '../support/sink.js';
import { freePort } from '../support/net.js';

let dir: string;
let viewer: RunningViewer;
let store: QuarantineStore;
let sink: Sink;
let browser: Browser;
let base: string;
const requests: string[] = [];
const dialogs: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailfilter-web-'));
  sink = await startSink();
  const config = parseConfig({
    network: { hostname: 'mx.company.com' },
    postfix: { reinjectPort: sink.port },
    quarantine: { dir: join(dir, 'quarantine') },
    viewer: { dataDir: join(dir, 'viewer'), listenAddress: '127.0.0.1', httpsPort: await freePort(), httpPort: await freePort() },
  });
  store = QuarantineStore.open(config.quarantine.dir, 500);
  const message = (subject: string, body: string, type = 'text/plain') =>
    `From: Spammer <spam@example.net>\r\nTo: bob@company.local\r\nSubject: ${subject}\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nContent-Type: ${type}\r\n\r\n${body}\r\n`;
  const add = async (id: string, to: string, subject: string, body: string, reason: 'SPAM' | 'VIRUS', type?: string) => {
    const path = join(dir, `${id}.eml`);
    writeFileSync(path, message(subject, body, type));
    await store.add(path, { id, receivedAt: new Date(), mailFrom: 'spam@example.net', recipients: [to], headerFrom: 'Spammer <spam@example.net>', headerTo: to, subject, reason, detail: reason === 'SPAM' ? 'score=12.3 required=6.31' : 'Eicar-Test-Signature', size: 300 });
    store.recordOutcome(reason);
  };
  await add('w-html', 'bob@company.local', 'Cheap watches <script>alert("subject")</script>', '<h1>Offer</h1><script>alert("body")</script><img src="http://tracker.example/pixel.gif"><p>Click <a href="http://evil.example/">here</a></p>', 'SPAM', 'text/html');
  await add('w-virus', 'bob@company.local', 'Invoice attached', 'see attachment', 'VIRUS');
  await add('w-carol', 'carol@company.local', 'For Carol only', 'private', 'SPAM');
  for (let i = 0; i < 5; i++) store.recordOutcome('CLEAN');
  viewer = await startViewer(config);
  base = `https://127.0.0.1:${viewer.httpsPort}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await viewer?.close();
  store?.close();
  await sink?.stop();
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

async function login(page: Page, username: string, password: string) {
  await page.goto(`${base}/viewer/`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
}

test('HTTP redirects to HTTPS', async () => {
  const page = await newPage();
  await page.goto(`http://127.0.0.1:${(viewer as RunningViewer).httpPort}/`);
  assert.equal(page.url(), `${base}/viewer/login`);
  await page.context().close();
});

test('the administrator changes the initial password, sees statistics, and adds a user', async () => {
  const page = await newPage();
  await login(page, 'vadmin', 'password');
  assert.match(await page.textContent('main') ?? '', /still has its initial password/);
  await page.fill('#current', 'password');
  await page.fill('#next', 'correct horse battery');
  await page.fill('#again', 'correct horse battery');
  await page.click('main button[type=submit]');
  assert.equal(new URL(page.url()).pathname, '/viewer/admin');
  assert.equal(await page.locator('svg[aria-label^="Messages per day"] rect[fill="#6aa84f"]:has(title)').count(), 1, 'a bar for clean mail');
  assert.match(await page.textContent('main') ?? '', /3 messages, 0\.0 MB of 500\.0 MB/);
  await page.screenshot({ path: join(dir, 'admin-console.png'), fullPage: true });

  await page.click('text=Users');
  await page.click('text=Add User');
  await page.fill('#username', 'bob');
  await page.fill('#password', 'bobs-own-password');
  await page.fill('#addresses', 'bob@company.local\nrobert@company.com');
  await page.click('main button[type=submit]');
  assert.match(await page.textContent('table') ?? '', /bob@company\.local, robert@company\.com/);

  await page.click('text=Add User');
  await page.fill('#username', 'thief');
  await page.fill('#password', 'thiefs-password');
  await page.fill('#addresses', 'bob@company.local');
  await page.click('main button[type=submit]');
  assert.match(await page.textContent('.notice.error') ?? '', /bob@company\.local already belongs to bob/);
  await page.context().close();
});

test('a user sees only their messages, safely, and can release and delete them', async () => {
  const page = await newPage();
  await login(page, 'bob', 'bobs-own-password');
  const list = await page.textContent('table') ?? '';
  assert.match(list, /Cheap watches/);
  assert.match(list, /Invoice attached/);
  assert.doesNotMatch(list, /For Carol only/);
  assert.equal(await page.locator('a[href="/viewer/messages/w-virus/download"]').count(), 0, 'no download link for a virus');

  await page.click('text=Cheap watches');
  const body = await page.textContent('pre.body') ?? '';
  assert.match(body, /Offer/i);
  assert.match(body, /Click here/);
  assert.equal(await page.locator('main img, main script, main h1:has-text("Offer")').count(), 0, 'the message’s markup is not rendered');
  await page.screenshot({ path: join(dir, 'message-view.png'), fullPage: true });

  await page.click('button:has-text("Release")');
  assert.match(await page.textContent('.notice.ok') ?? '', /Released/);
  const delivered = await sink.waitFor((m) => m.raw.includes('Cheap watches'));
  assert.deepEqual(delivered.to, ['bob@company.local']);
  assert.match(delivered.raw, /^X-Mailfilter-Released: w-html \(SPAM\) by bob/);

  await page.goto(`${base}/viewer/messages/w-carol`);
  assert.match(await page.textContent('main') ?? '', /No such message in your quarantine/);

  await page.goto(`${base}/viewer/messages`);
  await page.locator('tr', { hasText: 'Invoice attached' }).locator('button:has-text("Delete")').click();
  assert.doesNotMatch(await page.textContent('main') ?? '', /Invoice attached/);
  await page.context().close();

  assert.deepEqual(dialogs, [], 'no script of a message ever ran');
  const foreign = requests.filter((url) => !url.startsWith(base) && !url.startsWith(`http://127.0.0.1:${viewer.httpPort}`));
  assert.deepEqual(foreign, [], 'nothing loaded from anywhere else');
});
