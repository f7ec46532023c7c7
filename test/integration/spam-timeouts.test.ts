// A message that keeps spamd busy (issue 20: 38,000 nested <div>s) through the real chain, with a
// 1-second spamd timeout: Postfix is deferred on the first tries, the count survives a filter
// restart, and the third try is delivered without a spam verdict, X-Spam-Status saying it timed out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startChain, type Chain } from '../support/chain.js';
import { waitFor } from '../support/net.js';
import { askSpamd } from '../../runtime/checks/spam.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let chain: Chain | undefined;

before(
  async () => {
    chain = await startChain(
      { spamd: { timeoutSeconds: 1, maxTimeouts: 3 } },
      // spamd's children give up on the message soon, so they do not keep the machine busy after the test.
      { spamdArgs: ['--cf=time_limit 3', '--timeout-child=5'] },
    );
  },
  { timeout: 240_000 },
);

after(
  async () => {
    await chain?.stop();
  },
  { timeout: 60_000 },
);

function nestedDivs(subject: string): string {
  const depth = 38_000;
  const lines = (tag: string) => Array.from({ length: depth / 100 }, () => tag.repeat(100)).join('\r\n');
  return [
    'From: Newsletter <news@example.net>',
    'To: slow@company.local',
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <nested-${Date.now()}@example.net>`,
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><body>',
    lines('<div>'),
    'deep',
    lines('</div>'),
    '</body></html>',
    '',
  ].join('\r\n');
}

const headerOf = (raw: string, name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' '))?.[1];
const deferrals = (log: string) => log.split('\n').filter((line) => line.includes('to=<slow@company.local>') && line.includes('status=deferred'));

test('spamd timing out on every try: deferred twice (across a filter restart), then delivered marked "check timed out"', { timeout: 240_000 }, async () => {
  const c = chain!;
  const subject = `nested divs ${Date.now()}`;
  const sent = await c.send(nestedDivs(subject), { from: 'news@example.net', to: ['slow@company.local'] });
  assert.deepEqual(sent.accepted, ['slow@company.local'], sent.response);

  await waitFor('the first deferral', () => deferrals(c.postfix.log()).length >= 1, 60_000);
  assert.match(deferrals(c.postfix.log())[0]!, /451 4\.3\.0 .*spam check failed: timed out: spamd .* did not answer within 1s \(1 of 3 /);
  // The spool is emptied at start; the count is kept beside the quarantine.
  await c.usePolicy({});
  await c.postfix.flush();
  await waitFor('the second deferral', () => deferrals(c.postfix.log()).length >= 2, 60_000);
  assert.match(deferrals(c.postfix.log())[1]!, /\(2 of 3 /);
  await c.postfix.flush();

  const message = await c.sink.waitFor((m) => m.raw.includes(subject), 60_000);
  assert.equal(deferrals(c.postfix.log()).length, 2, 'delivered on the third try');
  assert.equal(headerOf(message.raw, 'X-Spam-Status'), 'No, check timed out (spamd timed out on 3 tries, decided without a spam verdict) required=6.31');
  assert.equal(headerOf(message.raw, 'X-Spam-Flag'), 'NO');
  assert.equal(headerOf(message.raw, 'Subject'), subject, 'not tagged as spam');
  await waitFor('Postfix’s queue to empty', async () => (await c.postfix.queueSize()) === 0, 30_000);
});

test(
  'with time_limit, spamd answers the same message in about that time, with TIME_LIMIT_EXCEEDED, instead of working on for minutes',
  { timeout: 120_000 },
  async () => {
    const c = chain!;
    const dir = mkdtempSync(join(tmpdir(), 'time-limit-'));
    try {
      const path = join(dir, 'm.eml');
      const raw = nestedDivs('time limit');
      writeFileSync(path, raw);
      const started = Date.now();
      const reply = await askSpamd({ host: '127.0.0.1', port: c.spamd.port, timeoutSeconds: 60 }, path, Buffer.byteLength(raw));
      const seconds = (Date.now() - started) / 1000;
      assert.ok(reply.tests.includes('TIME_LIMIT_EXCEEDED'), reply.tests.join(','));
      // time_limit 3, plus a child freed from the test before (--timeout-child=5) and a busy machine.
      assert.ok(seconds < 30, `answered after ${seconds} s`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
