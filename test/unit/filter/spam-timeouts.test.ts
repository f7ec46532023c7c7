// A message that keeps spamd busy: its timeouts are counted per message (across filter restarts),
// it is deferred until spamd.maxTimeouts of them, then decided without a spam verdict.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messageKey, openSpamTimeouts, settleSpamTimeout } from '../../../runtime/filter/spam-timeouts.js';
import { decide, type Verdict } from '../../../runtime/filter/decide.js';
import { deliveryHead } from '../../../runtime/filter/rewrite.js';
import { parseHead } from '../../../runtime/mail/message-head.js';
import { checkSpam, spamGivenUp, spamTimedOut } from '../../../runtime/checks/spam.js';
import { defaultConfig } from '../../../runtime/config/load.js';
import { logger } from '../../../runtime/log.js';
import type { CheckResult } from '../../../runtime/checks/result.js';
import { createServer, type Server } from 'node:net';

const dir = mkdtempSync(join(tmpdir(), 'spam-timeouts-'));
const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
  rmSync(dir, { recursive: true, force: true });
});

const policy = defaultConfig().policy;
const head = (text: string) => parseHead(Buffer.from(text), text.length, true);
const timedOut: CheckResult = { check: 'spam', result: 'error', detail: 'timed out: spamd at 127.0.0.1:783 did not answer within 1s' };
const results = (spam: CheckResult): CheckResult[] => [{ check: 'virus', result: 'pass', detail: '' }, spam, { check: 'headers', result: 'pass', detail: '' }];

test('a spamd that does not answer in time is reported as a timeout, one that is down is not', { timeout: 10_000 }, async () => {
  // Takes the message and never answers, as a spamd child stuck on 38,000 nested <div>s.
  const silent = createServer({ allowHalfOpen: true }, (socket) => socket.on('data', () => undefined));
  servers.push(silent);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  const spool = join(dir, 'm.eml');
  writeFileSync(spool, 'Subject: x\r\n\r\nbody\r\n');
  const slow = await checkSpam({ host: '127.0.0.1', port, timeoutSeconds: 1 }, spool, 20, policy);
  assert.equal(slow.result, 'error');
  assert.ok(spamTimedOut(slow), slow.detail);
  silent.close();
  const down = await checkSpam({ host: '127.0.0.1', port, timeoutSeconds: 1 }, spool, 20, policy);
  assert.equal(down.result, 'error');
  assert.ok(!spamTimedOut(down), `unreachable is not a timeout: ${down.detail}`);
});

test('the same message is known on every retry by Message-ID and size, or by its header section without one', () => {
  assert.equal(messageKey(head('Message-ID: <a@b.c>\r\nSubject: x\r\n'), 100), '<a@b.c> 100');
  assert.notEqual(messageKey(head('Message-ID: <a@b.c>\r\n'), 100), messageKey(head('Message-ID: <a@b.c>\r\n'), 101));
  const noId = messageKey(head('Subject: x\r\n'), 100);
  assert.match(noId, /^head-sha256:[0-9a-f]{64} 100$/);
  assert.equal(noId, messageKey(head('Subject: x\r\n'), 100));
  assert.notEqual(noId, messageKey(head('Subject: y\r\n'), 100));
});

test('timeouts defer until the limit, then the message is decided without a spam verdict; the count survives a restart', () => {
  const path = join(dir, 'counts.sqlite');
  const log = logger('test');
  let timeouts = openSpamTimeouts(path, log);
  const first = settleSpamTimeout(results(timedOut), 'k1 10', timeouts, 3);
  assert.deepEqual([first.tries, first.givenUp], [1, false]);
  const postponed = decide(first.results, policy);
  assert.equal(postponed.kind, 'postpone');
  assert.match(postponed.kind === 'postpone' ? postponed.why : '', /spam check failed: timed out: .* \(1 of 3 before it is decided without a spam verdict\)/);
  assert.equal(settleSpamTimeout(results(timedOut), 'k1 10', timeouts, 3).tries, 2);
  assert.equal(settleSpamTimeout(results(timedOut), 'other 10', timeouts, 3).tries, 1, 'another message counts apart');

  timeouts.close(); // the filter restarts
  timeouts = openSpamTimeouts(path, log);
  const third = settleSpamTimeout(results(timedOut), 'k1 10', timeouts, 3);
  assert.deepEqual([third.tries, third.givenUp], [3, true]);
  const spam = third.results.find((r) => r.check === 'spam')!;
  assert.deepEqual([spam.result, spamGivenUp(spam)], ['skip', true]);
  const verdict = decide(third.results, policy);
  assert.deepEqual(verdict.kind === 'verdict' && [verdict.category, verdict.destiny], ['CLEAN', 'D_PASS']);

  // A spam check that answered, or a spamd that is down, is not counted and not given up.
  const answered: CheckResult = { check: 'spam', result: 'pass', detail: 'score=1', score: 1, tests: [] };
  assert.deepEqual(settleSpamTimeout(results(answered), 'k1 10', timeouts, 3), { results: results(answered), tries: 0, givenUp: false });
  const down: CheckResult = { check: 'spam', result: 'error', detail: 'spamd at 127.0.0.1:783 unreachable: ECONNREFUSED' };
  assert.equal(decide(settleSpamTimeout(results(down), 'k1 10', timeouts, 3).results, policy).kind, 'postpone');
  timeouts.close();
});

test('with maxTimeouts 1 the first timeout decides; a virus found meanwhile still decides', () => {
  const timeouts = openSpamTimeouts(join(dir, 'one.sqlite'), logger('test'));
  const withVirus = [{ check: 'virus', result: 'fail', detail: 'Eicar' } as CheckResult, timedOut];
  const settled = settleSpamTimeout(withVirus, 'v 1', timeouts, 1);
  assert.equal(settled.givenUp, true);
  const verdict = decide(settled.results, policy);
  assert.deepEqual(verdict.kind === 'verdict' && verdict.category, 'VIRUS');
  timeouts.close();
});

test('a counts file that cannot be opened: counted in memory, still bounded', () => {
  const timeouts = openSpamTimeouts(join(dir, 'no-such-dir', 'x.sqlite'), logger('test'));
  assert.deepEqual(
    [1, 2, 3].map(() => settleSpamTimeout(results(timedOut), 'm 1', timeouts, 3).givenUp),
    [false, false, true],
  );
  timeouts.close();
});

test('a message passed on after timeouts says so in X-Spam-Status, and loses X-Spam-* from outside', () => {
  const timeouts = openSpamTimeouts(join(dir, 'header.sqlite'), logger('test'));
  const settled = settleSpamTimeout(results(timedOut), 'h 1', timeouts, 1);
  timeouts.close();
  const verdict = decide(settled.results, policy) as Verdict;
  const out = deliveryHead(head('X-Spam-Flag: YES\r\nX-Spam-Status: Yes, forged\r\nSubject: s\r\n'), verdict, {
    scannedBy: 'mailfilter at company.com',
    spamLevel: 6.31,
    subjectTag: '***SPAM*** ',
  }).toString();
  assert.match(
    out.replace(/\r\n\t/g, ' '),
    /^X-Spam-Status: No, check timed out \(spamd timed out on 1 try, decided without a spam verdict\) required=6\.31\r$/m,
  );
  assert.equal(out.match(/^X-Spam-Flag: NO\r$/gm)?.length, 1);
  assert.doesNotMatch(out, /forged|X-Spam-Flag: YES/);
  assert.match(out, /^Subject: s\r$/m, 'not tagged as spam');
});
