// Fetch mode: the console tells the administrator about messages the fetcher set aside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestViewer } from './harness.js';
import { SeenState } from '../../../runtime/fetch/seen-state.js';
import { seenStatePath } from '../../../runtime/fetch/set-aside.js';

test('the console lists the messages the fetcher set aside, and says when there are none', { timeout: 60_000 }, async () => {
  const viewer = await startTestViewer();
  await viewer.services.accounts.setPassword((await viewer.services.accounts.findByName('vadmin'))!.id, 'admin-password-1');
  const admin = viewer.browser('127.0.0.1');
  await admin.login('vadmin', 'admin-password-1');
  assert.match((await admin.request('/viewer/admin')).text, /No fetched message was set aside\./);

  const seen = SeenState.open(seenStatePath(join(viewer.dir, 'fetch')));
  await seen.recordFailure('pop3://box@company.com@pop.example', 'uid-17', 'the server would not send it (-ERR no such message)', 1);
  await seen.close();
  const page = (await admin.request('/viewer/admin')).text;
  assert.match(page, /1 message was set aside after failing several polls in a row/);
  assert.match(page, /pop3:\/\/box@company\.com@pop\.example message uid-17: the server would not send it/);
});
