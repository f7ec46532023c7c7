import { test } from 'node:test';
import assert from 'node:assert/strict';
import { digestHtml, digestText } from '../../../runtime/digest/compose.js';
import { isDue } from '../../../runtime/digest/run.js';
import type { QuarantineEntry } from '../../../runtime/quarantine/store.js';

const entry: QuarantineEntry = {
  id: 'M1',
  receivedAt: Date.UTC(2026, 10, 24, 8, 0),
  mailFrom: 'x@example.net',
  recipients: ['alice@company.com'],
  headerFrom: 'Evil <x@example.net>',
  headerTo: 'alice@company.com',
  subject: 'Win <script>alert(1)</script>\u202e',
  reason: 'SPAM',
  detail: 'score=1000',
  size: 10,
  path: 'p',
  releases: [],
};

test('a digest lists each message with its links; the sender’s markup is escaped', () => {
  const input = {
    from: 'q@mx',
    to: 'alice@company.com',
    username: 'alice',
    viewerUrl: 'https://mx/viewer',
    linksValidUntil: new Date(Date.UTC(2026, 11, 8)),
    items: [{ entry, recipients: ['alice@company.com'], links: [{ action: 'release' as const, label: 'Release', url: 'https://mx/viewer/a/tok"en' }] }],
  };
  const html = digestHtml(input);
  assert.doesNotMatch(html, /<script>/);
  assert.match(html, /Win &#60;script&#62;alert\(1\)&#60;\/script&#62;/);
  assert.match(html, /href="https:\/\/mx\/viewer\/a\/tok&#34;en"/);
  const text = digestText(input);
  assert.match(text, /Release: https:\/\/mx\/viewer\/a\/tok"en/);
  assert.doesNotMatch(text, /\u202e/, 'no direction overrides in the text');
  assert.match(text, /1 message was held/);
});

test('digests are due once a day (or week), from the configured hour', () => {
  const at = (h: number, day = 24) => new Date(2026, 10, day, h, 5);
  assert.equal(isDue('off', null, at(9), 7), false);
  assert.equal(isDue('daily', null, at(6), 7), false, 'before the hour');
  assert.equal(isDue('daily', null, at(7), 7), true);
  assert.equal(isDue('daily', at(7, 23).getTime(), at(7), 7), true);
  assert.equal(isDue('daily', at(7).getTime(), at(9), 7), false, 'already sent today');
  assert.equal(isDue('weekly', at(7, 20).getTime(), at(7), 7), false);
  assert.equal(isDue('weekly', at(7, 17).getTime(), at(7), 7), true);
});
