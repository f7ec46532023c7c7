import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveryHead } from '../../../runtime/filter/rewrite.js';
import { parseHead } from '../../../runtime/mail/message-head.js';
import type { Verdict } from '../../../runtime/filter/decide.js';
import { buildBounce } from '../../../runtime/filter/bounce.js';

const options = { scannedBy: 'mailfilter at company.com', spamLevel: 6.31, subjectTag: '***SPAM*** ' };
const head = (text: string) => parseHead(Buffer.from(text), text.length, true);
const spamVerdict: Verdict = {
  kind: 'verdict',
  category: 'SPAM',
  destiny: 'D_PASS',
  detail: 'score=12',
  results: [{ check: 'spam', result: 'fail', detail: '', score: 12.5, tests: ['GTUBE', 'X'] }],
};

test('spam passed on gets marked, tagged, and loses forged spam headers', () => {
  const out = deliveryHead(
    head('Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nX-Spam-Flag: NO\r\nX-Spam-Status: No\r\nFrom: a@b.c\r\n'),
    spamVerdict,
    options,
  ).toString();
  assert.match(
    out,
    /^X-Virus-Scanned: mailfilter at company\.com\r\nX-Spam-Flag: YES\r\nX-Spam-Score: 12\.5\r\nX-Spam-Level: \*{12}\r\nX-Spam-Status: Yes, score=12\.5 required=6\.31 tests=\[GTUBE, X\]\r\n/,
  );
  assert.match(out, /\r\nSubject: \*\*\*SPAM\*\*\* =\?utf-8\?q\?Gr=C3=BC=C3=9Fe\?=\r\n/);
  assert.equal(out.match(/X-Spam-Flag/g)?.length, 1);
  assert.ok(out.endsWith('From: a@b.c\r\n\r\n'));
});

test('the subject is tagged once, and added when missing', () => {
  assert.match(deliveryHead(head('Subject: ***SPAM*** again\r\n'), spamVerdict, options).toString(), /Subject: \*\*\*SPAM\*\*\* again\r\n/);
  assert.match(deliveryHead(head('From: a@b.c\r\n'), spamVerdict, options).toString(), /\r\nSubject: \*\*\*SPAM\*\*\*\r\n\r\n$/);
});

test('a bounce reports per recipient and carries only the original headers', () => {
  const dsn = buildBounce({
    reportingHost: 'mx.company.com',
    sender: 'a@b.c',
    recipients: ['x@company.com', 'y@company.com'],
    quarantineId: 'Q1',
    arrivalDate: new Date(0),
    verdict: { kind: 'verdict', category: 'VIRUS', destiny: 'D_BOUNCE', detail: 'Eicar-Test', results: [] },
    originalHead: Buffer.from('Subject: hi\r\nFrom: a@b.c\r\n'),
  }).toString();
  assert.match(dsn, /Content-Type: multipart\/report; report-type=delivery-status/);
  assert.equal(dsn.match(/Final-Recipient: rfc822; /g)?.length, 2);
  assert.match(dsn, /Content-Type: text\/rfc822-headers\r\n\r\nSubject: hi\r\nFrom: a@b\.c\r\n/);
  assert.match(dsn, /Auto-Submitted: auto-replied/);
});

test('a small message’s head read from memory is the same as from its spool file', async () => {
  const { headOf, readHead } = await import('../../../runtime/mail/message-head.js');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'head-'));
  for (const [name, text] of [
    ['crlf', 'From: a@b.example\r\nSubject: x\r\n folded\r\n\r\nbody\r\n'],
    ['lf', 'Subject: y\n\nbody\n'],
    ['no body', 'Subject: only headers\r\n'],
    ['empty', ''],
  ] as const) {
    const path = join(dir, name);
    writeFileSync(path, text);
    const fromFile = await readHead(path);
    const fromMemory = headOf(Buffer.from(text));
    assert.deepEqual(
      [fromMemory.raw.toString(), fromMemory.bodyOffset, fromMemory.fields.map((f) => f.raw.toString())],
      [fromFile.raw.toString(), fromFile.bodyOffset, fromFile.fields.map((f) => f.raw.toString())],
      name,
    );
  }
});
