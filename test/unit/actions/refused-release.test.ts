// A message Postfix refused in fetch mode (REFUSED) was never scanned: no one may release it past
// the filter, not even the administrator approving a request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestViewer } from '../viewer/harness.js';
import { ActionFailed, release } from '../../../runtime/actions/quarantine-actions.js';
import type { Category } from '../../../runtime/config/schema.js';

test('a REFUSED message is never released, even by the administrator', { timeout: 60_000 }, async () => {
  const viewer = await startTestViewer();
  await viewer.addMessage({ id: 'refused-1', recipients: ['bob@company.com'], reason: 'REFUSED' as Category, detail: '552 5.3.4 Error: message file too big' });
  const entry = await viewer.services.store.get('refused-1');
  assert.ok(entry);
  const admin = (await viewer.services.accounts.list()).find((u) => u.isAdmin);
  assert.ok(admin);
  await assert.rejects(
    release(viewer.services, { user: admin, client: '127.0.0.1', via: 'viewer' }, entry),
    (err: Error) => err instanceof ActionFailed && /never scanned and cannot be released/.test(err.message),
  );
  assert.deepEqual(viewer.sent, [], 'nothing was re-injected');
});
