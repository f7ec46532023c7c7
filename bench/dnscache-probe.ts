// Throwaway: CPU per gatherAuth with the plain resolver vs an in-process cache (upper bound of a cache's gain).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startDns } from '../test/support/dns.js';
import { authResolver, gatherAuth, type DnsResolve } from '../runtime/checks/auth.js';
import { dkimTxtRecord, makeDkimKey } from '../runtime/checks/auth-dkim-key.js';
import { openDkimSigner } from '../runtime/filter/dkim-sign.js';

const dir = mkdtempSync('/tmp/h14perf/probe-');
const key = makeDkimKey('rsa');
writeFileSync(join(dir, 'k.pem'), key);
const dns = await startDns(join(dir, 'dns'), [
  { name: 'sender.example', type: 'TXT', data: 'v=spf1 ip4:192.0.2.0/24 include:_spf.sender.example -all' },
  { name: '_spf.sender.example', type: 'TXT', data: 'v=spf1 ip4:198.51.100.0/24 -all' },
  { name: 's1._domainkey.sender.example', type: 'TXT', data: dkimTxtRecord(key) },
  { name: '_dmarc.sender.example', type: 'TXT', data: 'v=DMARC1; p=reject' },
]);
try {
  const head = `From: Alice <alice@sender.example>\r\nTo: bob@company.com\r\nSubject: q\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <b@sender.example>\r\n\r\n`;
  const body = `${'x'.repeat(76)}\r\n`.repeat(22);
  const signer = openDkimSigner({ domain: 'sender.example', selector: 's1', keyFile: join(dir, 'k.pem'), inside: () => true });
  const raw = (await signer.sign(Readable.from([head + body]))) + head + body;
  const spool = join(dir, 'm.eml');
  writeFileSync(spool, raw);
  const plain = authResolver(dns.address, 5);
  const cache = new Map<string, Promise<string[][] | string[]>>();
  const cached: DnsResolve = (n, t) => {
    const k = `${n}/${t}`;
    let hit = cache.get(k);
    if (!hit) cache.set(k, (hit = plain(n, t)));
    return hit;
  };
  const env = { clientAddress: '198.51.100.10', heloName: 'mail.sender.example', mailFrom: 'alice@sender.example' };
  const run = async (resolve: DnsResolve, n: number) => {
    const c = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < n; i++) await gatherAuth(spool, env, { authservId: 'mx', resolve });
    const u = process.cpuUsage(c);
    return { cpu: (u.user + u.system) / 1000 / n, wall: (performance.now() - t) / n };
  };
  await run(plain, 50);
  await run(cached, 50);
  const rows: string[] = [];
  for (let r = 0; r < 6; r++) {
    const a = await run(plain, 300);
    const b = await run(cached, 300);
    rows.push(`plain cpu ${a.cpu.toFixed(2)} wall ${a.wall.toFixed(2)} | cached cpu ${b.cpu.toFixed(2)} wall ${b.wall.toFixed(2)} | cpu ratio ${(b.cpu / a.cpu).toFixed(2)}`);
    console.log(rows.at(-1));
  }
} finally {
  await dns.stop();
}
