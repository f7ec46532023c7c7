import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHeaders, isValidAddressList } from '../../../runtime/checks/headers.js';
import { parseHead } from '../../../runtime/mail/message-head.js';

const structure = { parts: [], problems: [], complete: true };
const good =
  'From: Alice <alice@company.com>\r\nTo: bob@company.local, "Carol, C." <carol@company.local>\r\nDate: Tue, 24 Nov 2026 17:00:00 +0000\r\nSubject: hi\r\n';

function check(headers: string) {
  const raw = Buffer.from(headers, 'latin1');
  return checkHeaders(parseHead(raw, raw.length, true), structure);
}

test('a well-formed header passes', () => {
  assert.equal(check(good).result, 'pass');
});

test('address lists: names, quotes, comments, groups', () => {
  assert.ok(isValidAddressList('Alice <alice@x.com>', false));
  assert.ok(isValidAddressList('"Doe, John" <j@x.com>, k@y.org (Kay)', false));
  assert.ok(isValidAddressList('undisclosed-recipients:;', true));
  assert.ok(!isValidAddressList('undisclosed-recipients:;', false));
  assert.ok(!isValidAddressList('alice at x.com', false));
  assert.ok(!isValidAddressList('<<alice@x.com>', false));
});

test('each kind of bad header is named', () => {
  assert.match(check(good.replace('Subject: hi', 'Subject: h\u00e9')).detail, /non-encoded 8-bit data in header Subject/);
  assert.match(check(good.replace(/Date: .*\r\n/, '')).detail, /missing required header Date/);
  assert.match(check(good + 'From: other@x.com\r\n').detail, /duplicate header from/);
  assert.match(check(good.replace(/Date: .*/, 'Date: 2026-11-24')).detail, /invalid Date/);
  assert.match(check(good.replace('Subject: hi', `Subject: ${'x'.repeat(1200)}`)).detail, /longer than 998/);
  assert.match(check(good.replace('From: Alice <alice@company.com>', 'From: alice')).detail, /invalid address syntax in From/);
  assert.match(check(good + 'Broken line without colon\r\n').detail, /malformed header line/);
});

test('obsolete but common date forms are accepted', () => {
  for (const date of ['24 Nov 2026 17:00 GMT', 'Tue, 24 Nov 26 17:00:00 EST', 'Tue,24 Nov 2026 17:00:00 +0100 (CET)']) {
    assert.equal(check(good.replace(/Date: .*/, `Date: ${date}`)).result, 'pass', date);
  }
});

test('MIME structure problems count as bad headers', () => {
  const raw = Buffer.from(good);
  const result = checkHeaders(parseHead(raw, raw.length, true), {
    parts: [],
    problems: ['multipart in part 1 is never closed (missing final boundary)'],
    complete: true,
  });
  assert.match(result.detail, /never closed/);
});
