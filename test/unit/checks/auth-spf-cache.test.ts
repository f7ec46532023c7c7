// SPF results kept per client address, HELO and sender for at most maxAgeSeconds; another sender
// or client is evaluated again; temporary errors and failures are not kept; questions asked at once share one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SPFResult } from 'mailauth';
import { spfCache, type SpfQuestion } from '../../../runtime/checks/auth-spf-cache.js';

function setup(result: (q: SpfQuestion) => string | Error, maxEntries = 100) {
  let clock = 1_000_000;
  const asked: string[] = [];
  const check = spfCache(
    async (q) => {
      asked.push(`${q.ip} ${q.helo} ${q.sender}`);
      const r = result(q);
      if (r instanceof Error) throw r;
      return { domain: q.sender.split('@')[1]!, status: { result: r }, info: `spf=${r}` } as unknown as SPFResult;
    },
    { maxEntries, maxAgeSeconds: 30, now: () => clock },
  );
  return { check, asked, later: (seconds: number) => (clock += seconds * 1000) };
}

const q = (sender = 'alice@sender.example', ip = '198.51.100.10', helo = 'mail.sender.example') => ({ sender, ip, helo });

test('the same client, HELO and sender: evaluated once for 30 s, then again', async () => {
  const { check, asked, later } = setup(() => 'pass');
  assert.equal((await check(q())).status.result, 'pass');
  await check(q('alice@SENDER.example', '198.51.100.10', 'MAIL.sender.example'));
  later(29);
  await check(q());
  assert.equal(asked.length, 1);
  later(2);
  await check(q());
  assert.equal(asked.length, 2);
});

test('another sender (local part too), address or HELO is its own question', async () => {
  const { check, asked } = setup(() => 'pass');
  await check(q());
  await check(q('bob@sender.example'));
  await check(q('Alice@sender.example'));
  await check(q('alice@sender.example', '198.51.100.11'));
  await check(q('alice@sender.example', '198.51.100.10', 'other.example'));
  assert.equal(asked.length, 5);
});

test('temperror and thrown errors are not kept; questions at once share one evaluation', async () => {
  let answer: string | Error = 'temperror';
  const { check, asked } = setup(() => answer);
  assert.equal((await check(q())).status.result, 'temperror');
  answer = new Error('boom');
  await assert.rejects(check(q()), /boom/);
  answer = 'fail';
  const [a, b] = await Promise.all([check(q()), check(q())]);
  assert.equal(a, b);
  await check(q());
  assert.equal(asked.length, 3);
});

test('no more than maxEntries results, oldest out', async () => {
  const { check, asked } = setup(() => 'pass', 2);
  await check(q('a@x.example'));
  await check(q('b@x.example'));
  await check(q('c@x.example'));
  await check(q('a@x.example'));
  assert.equal(asked.length, 4);
});
