// The shared database gone (nothing listens where it was): the viewer answers a plain 503 page,
// without the error's details, and keeps running.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ViewerAccounts } from '../../../runtime/accounts/viewer-accounts.js';
import { localAuthenticator } from '../../../runtime/accounts/authenticate.js';
import { createViewerApp } from '../../../runtime/viewer/app.js';
import { openPostgres } from '../../../runtime/storage/postgres.js';
import type { ViewerTables } from '../../../runtime/storage/viewer-db.js';
import { freePort } from '../../support/net.js';
import { startTestViewer, TestBrowser } from './harness.js';

const viewer = await startTestViewer();
// A real connection attempt to a loopback port nobody listens on: refused at once.
const gone = openPostgres<ViewerTables>({ url: `postgresql://mailfilter:x@127.0.0.1:${await freePort()}/mailfilter?sslmode=disable`, caFile: '' });
const accounts = ViewerAccounts.on(gone, 8);
const app = createViewerApp({ ...viewer.services, accounts, authenticate: localAuthenticator(accounts) });

after(async () => {
  await gone.destroy();
  await viewer.services.close();
});

test('with the database gone, pages behind the login and the login itself answer 503 with a plain page', async () => {
  const browser = new TestBrowser(app, '10.7.0.1');
  browser.cookies.set('mf_session', 'some-old-session');
  for (const page of [await browser.request('/viewer/messages'), await browser.login('alice', 'alice-password-1')]) {
    assert.equal(page.status, 503, page.text.slice(0, 300));
    assert.match(page.text, /cannot be reached just now/);
    assert.doesNotMatch(page.text, /ECONNREFUSED|127\.0\.0\.1|at .*\.ts/, 'nothing of the error shown');
    assert.ok(Number(page.headers.get('retry-after')) > 0);
  }
  assert.equal((await browser.request('/viewer/login')).status, 200, 'the login page itself needs no database');
});
