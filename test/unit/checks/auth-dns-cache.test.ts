// The auth check's in-process DNS cache: an answer kept for its TTL but never past maxAgeSeconds,
// "no such name" kept like an answer, temporary failures not kept, one query for questions asked
// at once, and no more than maxEntries answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dnsCache, type DnsAnswer } from '../../../runtime/checks/auth-dns-cache.js';

function setup(answer: (name: string, type: string) => DnsAnswer | Error, maxEntries = 100) {
  let clock = 1_000_000;
  const asked: string[] = [];
  const resolve = dnsCache(
    async (name, type) => {
      asked.push(`${name}/${type}`);
      const a = answer(name, type);
      if (a instanceof Error) throw a;
      return a;
    },
    { maxEntries, maxAgeSeconds: 30, now: () => clock },
  );
  return { resolve, asked, later: (seconds: number) => (clock += seconds * 1000) };
}
const errno = (code: string) => Object.assign(new Error(`query ${code}`), { code });

test('an answer without a TTL is kept maxAgeSeconds, then asked again; names are case-insensitive, types apart', async () => {
  const { resolve, asked, later } = setup(() => ({ records: [['v=spf1 -all']] }));
  assert.deepEqual(await resolve('Sender.Example', 'TXT'), [['v=spf1 -all']]);
  await resolve('sender.example', 'TXT');
  await resolve('sender.example', 'MX');
  later(29);
  await resolve('sender.example', 'TXT');
  assert.equal(asked.length, 2);
  later(2);
  await resolve('sender.example', 'TXT');
  assert.deepEqual(asked, ['Sender.Example/TXT', 'sender.example/MX', 'sender.example/TXT']);
});

test('a TTL shorter than maxAgeSeconds is honoured, a TTL of 0 is not kept at all', async () => {
  const { resolve, asked, later } = setup((name) => ({ records: ['192.0.2.1'], ttl: name === 'zero.example' ? 0 : 5 }));
  await resolve('five.example', 'A');
  later(4);
  await resolve('five.example', 'A');
  later(2);
  await resolve('five.example', 'A');
  await resolve('zero.example', 'A');
  await resolve('zero.example', 'A');
  assert.deepEqual(asked, ['five.example/A', 'five.example/A', 'zero.example/A', 'zero.example/A']);
});

test('"no such name" is kept like an answer; a timeout or SERVFAIL is asked again at once', async () => {
  const codes: Record<string, string> = { 'gone.example': 'ENOTFOUND', 'empty.example': 'ENODATA', 'slow.example': 'ETIMEOUT', 'broken.example': 'ESERVFAIL' };
  const { resolve, asked } = setup((name) => errno(codes[name]!));
  for (const name of Object.keys(codes)) {
    for (let i = 0; i < 2; i++) await assert.rejects(resolve(name, 'TXT'), (err: NodeJS.ErrnoException) => err.code === codes[name]);
  }
  assert.deepEqual(asked, ['gone.example/TXT', 'empty.example/TXT', 'slow.example/TXT', 'slow.example/TXT', 'broken.example/TXT', 'broken.example/TXT']);
});

test('questions asked at once share one query; the cache holds at most maxEntries, oldest out first', async () => {
  const { resolve, asked } = setup((name) => ({ records: [[name]] }), 2);
  const [a, b] = await Promise.all([resolve('a.example', 'TXT'), resolve('a.example', 'TXT')]);
  assert.deepEqual([a, b], [[['a.example']], [['a.example']]]);
  assert.equal(asked.length, 1);
  await resolve('b.example', 'TXT');
  await resolve('c.example', 'TXT');
  await resolve('b.example', 'TXT');
  await resolve('a.example', 'TXT');
  assert.deepEqual(asked, ['a.example/TXT', 'b.example/TXT', 'c.example/TXT', 'a.example/TXT']);
});

test('each caller gets its own copy: changing one answer does not change the kept one', async () => {
  const { resolve } = setup(() => ({ records: [['v=spf1', ' -all']] }));
  const first = (await resolve('a.example', 'TXT')) as string[][];
  first[0]!.push('changed');
  first.push(['more']);
  assert.deepEqual(await resolve('a.example', 'TXT'), [['v=spf1', ' -all']]);
});
