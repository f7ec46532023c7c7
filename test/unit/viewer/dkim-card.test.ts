// The console shows the DKIM record to publish: off, no key yet, then the key's name and value.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestViewer } from './harness.js';
import { dkimTxtRecord, ensureDkimKey } from '../../../runtime/checks/auth-dkim-key.js';
import { txtStrings } from '../../../runtime/checks/auth-dkim-record.js';

async function consolePage(dkim?: Record<string, unknown>) {
  const viewer = await startTestViewer(dkim ? { dkim } : {});
  await viewer.services.accounts.setPassword((await viewer.services.accounts.findByName('vadmin'))!.id, 'admin-password-1');
  const admin = viewer.browser('127.0.0.1');
  await admin.login('vadmin', 'admin-password-1');
  return { viewer, page: async () => (await admin.request('/viewer/admin')).text };
}

test('the console says DKIM signing is off', { timeout: 60_000 }, async () => {
  const { page } = await consolePage();
  assert.match(await page(), /<h2>DKIM signing of outgoing mail<\/h2><p>Off: outgoing mail is not signed\./);
});

test('the console says the key is not made yet, then shows the TXT record to publish for it', { timeout: 60_000 }, async () => {
  const keyDir = mkdtempSync(join(tmpdir(), 'dkim-card-'));
  after(() => rmSync(keyDir, { recursive: true, force: true }));
  const keyFile = join(keyDir, 'dkim', 'mailfilter.rsa.pem');
  const { page } = await consolePage({ enabled: true, selector: 'mailfilter', algorithm: 'rsa', keyFile });
  assert.match(
    await page(),
    /No key yet at [^<]*mailfilter\.rsa\.pem: `mailfilter configure` makes it[^<]*published at mailfilter\._domainkey\.company\.com\./,
  );
  assert.equal(ensureDkimKey(keyFile, 'rsa'), 'made');
  const value = dkimTxtRecord(readFileSync(keyFile, 'utf8'));
  const shown = await page();
  assert.match(shown, /signed with the RSA-2048 key [^<]*mailfilter\.rsa\.pem/);
  assert.match(shown, /<th>Name<\/th><td><code>mailfilter\._domainkey\.company\.com<\/code>/);
  assert.ok(shown.includes(`<th>Value</th><td><code>${value}</code>`), 'the value, whole, for a DNS provider’s form');
  const strings = txtStrings(value);
  assert.equal(strings.length, 2);
  assert.ok(
    shown.includes(`<code>mailfilter._domainkey.company.com. IN TXT &quot;${strings[0]}&quot; &quot;${strings[1]}&quot;</code>`),
    'the zone-file line, split at 255',
  );
});
