// SPF results kept per client address, HELO and sender for at most maxAgeSeconds, and per client and
// sender domain for another local part when no record had a macro; another domain or client is
// evaluated again; temporary errors and failures are not kept; questions asked at once share one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spf } from 'mailauth';
import { spfCache, type SpfQuestion } from '../../../runtime/checks/auth-spf-cache.js';
import { evaluateSpf } from '../../../runtime/checks/spf-evaluate.js';

function setup(result: (q: SpfQuestion) => string | Error, maxEntries = 100, perSender = true) {
  let clock = 1_000_000;
  const asked: string[] = [];
  const check = spfCache(
    async (q) => {
      asked.push(`${q.ip} ${q.helo} ${q.sender}`);
      const r = result(q);
      if (r instanceof Error) throw r;
      return {
        outcome: { domain: q.sender.split('@')[1]!, status: { result: r, comment: `mx: domain of ${q.sender} says ${r}` }, info: `spf=${r}` },
        perSender,
      };
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

test("without a macro, another local part from the same client gets the domain's verdict, told for its own sender and HELO", async () => {
  const { check, asked, later } = setup(() => 'pass', 100, false);
  await check(q('list+bounce-1@sender.example'));
  const reused = await check(q('list+bounce-2@Sender.Example', '198.51.100.10', 'other.example'));
  assert.equal(asked.length, 1);
  assert.equal(reused.status.result, 'pass');
  assert.equal(reused.status.comment, 'mx: domain of list+bounce-2@Sender.Example says pass');
  assert.equal(
    reused.info,
    'spf=pass (mx: domain of list+bounce-2@Sender.Example says pass) smtp.mailfrom=list+bounce-2@Sender.Example smtp.helo=other.example',
  );
  await check(q('list+bounce-3@sender.example', '198.51.100.11'));
  await check(q('list+bounce-4@other.example'));
  assert.equal(asked.length, 3, 'another client or domain is its own question');
  later(31);
  await check(q('list+bounce-5@sender.example'));
  assert.equal(asked.length, 4, 'no longer than the answers live');
});

test('a domain verdict that was a temperror is not kept', async () => {
  let answer = 'temperror';
  const { check, asked } = setup(() => answer, 100, false);
  await check(q('a@sender.example'));
  answer = 'pass';
  assert.equal((await check(q('b@sender.example'))).status.result, 'pass');
  assert.equal(asked.length, 2);
});

// With our evaluator (spf-evaluate.ts) and records in memory: the reused verdict reads as mailauth's own would, and a macro keeps local parts apart.
const records: Record<string, string> = {
  'plain.example': 'v=spf1 ip4:198.51.100.0/24 -all',
  'macro.example': 'v=spf1 exists:%{l}.allowed.macro.example -all',
};
const resolver = async (name: string, rrtype: string) => {
  if (rrtype === 'TXT' && records[name]) return [[records[name]!]];
  if (rrtype === 'A' && name === 'alice.allowed.macro.example') return ['127.0.0.2'];
  throw Object.assign(new Error(`no ${rrtype} for ${name}`), { code: 'ENOTFOUND' });
};
const realMemory = () =>
  spfCache(
    async (question) => {
      return evaluateSpf(question, { receiver: 'mx.company.com', resolve: resolver });
    },
    { maxEntries: 10, maxAgeSeconds: 30 },
  );

test("our evaluation: a verdict reused for another local part reads exactly as mailauth's own for it", async () => {
  const memory = realMemory();
  for (const ip of ['198.51.100.10', '203.0.113.5']) {
    await memory({ sender: 'first@plain.example', ip, helo: 'a.plain.example' });
    const reused = await memory({ sender: 'second+x@plain.example', ip, helo: '[192.0.2.1]' });
    const fresh = await spf({ sender: 'second+x@plain.example', ip, helo: '[192.0.2.1]', mta: 'mx.company.com', resolver });
    assert.deepEqual(
      { domain: reused.domain, result: reused.status.result, comment: reused.status.comment, info: reused.info },
      {
        domain: fresh.domain,
        result: fresh.status.result,
        comment: fresh.status.comment,
        info: fresh.info,
      },
    );
  }
});

test('our evaluation: a record with a macro is asked again for each local part', async () => {
  const memory = realMemory();
  assert.equal((await memory({ sender: 'alice@macro.example', ip: '198.51.100.10', helo: 'x' })).status.result, 'pass');
  assert.equal((await memory({ sender: 'mallory@macro.example', ip: '198.51.100.10', helo: 'x' })).status.result, 'fail');
});
