// The tests' DNS server (test/support/dns.ts): it answers from the records it is given and nothing
// else, and a program in a mount namespace with its resolv.conf asks it, not this machine's resolver.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { listedIn, startDns, type DnsServer } from '../support/dns.js';
import { withResolvConf } from '../../runtime/local/postfix.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'mailfilter-dns-'));
let dns: DnsServer | undefined;
const dkimKey = `v=DKIM1; k=rsa; p=${'A'.repeat(400)}`;

before(
  async () => {
    dns = await startDns(dir, [
      ...listedIn('bl.test', '127.0.0.2', { reason: 'spam source' }),
      { name: 'example.net', type: 'MX', data: '10 mx.example.net' },
      { name: 'mx.example.net', type: 'A', data: '192.0.2.25' },
      { name: 'sel._domainkey.example.net', type: 'TXT', data: dkimKey },
    ]);
  },
  { timeout: 60_000 },
);

after(
  async () => {
    await dns?.stop();
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  },
  { timeout: 60_000 },
);

test('a DNSBL listing answers with its code and reason; an unlisted address is NXDOMAIN', { timeout: 30_000 }, async () => {
  const resolver = dns!.resolver();
  assert.deepEqual(await resolver.resolve4('2.0.0.127.bl.test'), ['127.0.0.2']);
  assert.deepEqual(await resolver.resolveTxt('2.0.0.127.bl.test'), [['spam source']]);
  await assert.rejects(resolver.resolve4('3.0.0.127.bl.test'), { code: 'ENOTFOUND' });
});

test('MX and A records of a test domain, and a TXT longer than 255 characters in one piece', { timeout: 30_000 }, async () => {
  const resolver = dns!.resolver();
  assert.deepEqual(await resolver.resolveMx('example.net'), [{ exchange: 'mx.example.net', priority: 10 }]);
  assert.deepEqual(await resolver.resolve4('mx.example.net'), ['192.0.2.25']);
  assert.equal((await resolver.resolveTxt('sel._domainkey.example.net'))[0]!.join(''), dkimKey);
});

test('names it was not given are NXDOMAIN, never looked up on the Internet', { timeout: 30_000 }, async () => {
  await assert.rejects(dns!.resolver().resolve4('gmail.com'), { code: 'ENOTFOUND' });
});

test('a program in a mount namespace with its resolv.conf asks it; the machine’s resolv.conf is unchanged', { timeout: 30_000 }, async () => {
  const before = readFileSync('/etc/resolv.conf', 'utf8');
  const { stdout } = await run(...withResolvConf(dns!.resolvConf, ['getent', 'ahostsv4', 'mx.example.net']));
  assert.match(stdout, /^192\.0\.2\.25\s/m);
  assert.equal(readFileSync('/etc/resolv.conf', 'utf8'), before);
});
