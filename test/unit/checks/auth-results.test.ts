// Our Authentication-Results read back from a held copy: only the header with our authserv-id
// counts, results split at top-level semicolons; the viewer's message page shows one row per method.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { parseAuthResults } from '../../../runtime/checks/auth-results.js';
import { startTestViewer, type TestViewer } from '../viewer/harness.js';

const HEAD = [
  'Authentication-Results: elsewhere.example; spf=pass smtp.mailfrom=x@bank.example',
  'Authentication-Results: mx.company.com;',
  '\tdkim=pass header.i=@example.net header.s=s1 header.a=rsa-sha256 header.b=abc;',
  '\tspf=fail (mx.company.com: domain of a@example.net does not designate 192.0.2.9; see it) smtp.mailfrom=a@example.net;',
  '\tarc=none;',
  '\tdmarc=fail (p=REJECT arc=none) header.from=example.net',
  'From: a@example.net',
].join('\r\n');

test('the rows of the header with our authserv-id, semicolons inside comments kept', () => {
  const rows = parseAuthResults(HEAD, 'MX.company.com');
  assert.deepEqual(rows, {
    dkim: ['pass header.i=@example.net header.s=s1 header.a=rsa-sha256 header.b=abc'],
    spf: ['fail (mx.company.com: domain of a@example.net does not designate 192.0.2.9; see it) smtp.mailfrom=a@example.net'],
    arc: ['none'],
    dmarc: ['fail (p=REJECT arc=none) header.from=example.net'],
  });
  assert.equal(parseAuthResults('Authentication-Results: elsewhere.example; spf=pass\r\n', 'mx.company.com'), null);
});

let viewer: TestViewer | undefined;
after(() => {
  if (viewer) rmSync(viewer.dir, { recursive: true, force: true });
});

test('the viewer’s message page shows SPF, DKIM, DMARC and ARC of a held message', { timeout: 30_000 }, async () => {
  viewer = await startTestViewer();
  await viewer.services.accounts.create({ username: 'bob', password: 'bob-password-1', source: 'local', addresses: ['bob@company.local'] });
  // The test viewer's host name is the default one: that is our authserv-id there.
  await viewer.addMessage(
    { id: 'm-spoofed', recipients: ['bob@company.local'], reason: 'SPOOFED', detail: 'DMARC fail for example.net (p=reject)' },
    `${HEAD.replace(/mx\.company\.com;/, 'mailfilter.localdomain;')}\r\nSubject: forged\r\n\r\nbody\r\n`,
  );
  const bob = viewer.browser('10.0.0.3');
  await bob.login('bob', 'bob-password-1');
  const page = await bob.request('/viewer/messages/m-spoofed');
  assert.equal(page.status, 200);
  assert.match(page.text, /<th>SPF<\/th><td>fail \(mx\.company\.com: domain of a@example\.net/);
  assert.match(page.text, /<th>DKIM<\/th><td>pass header\.i=@example\.net/);
  assert.match(page.text, /<th>DMARC<\/th><td>fail \(p=REJECT arc=none\)/);
  assert.match(page.text, /<th>ARC<\/th><td>none<\/td>/);
  assert.match(page.text, /class="reason SPOOFED"/);
});
