// Added inspection latency of the container decoders, without the chain: a 10 MB ISO attachment
// alone, and a 7z (and a RAR) attachment at 10 messages at once, against the same message with a
// plain attachment of the same size, measured in the same run. `node --import tsx bench/containers.ts`
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { scanMessage } from '../runtime/filter/scan.js';
import { readHead } from '../runtime/mail/message-head.js';
import { defaultConfig } from '../runtime/config/load.js';
import { buildMessage } from '../test/support/messages.js';
import { iso, rar4, sevenZip } from '../test/support/containers.js';

const config = defaultConfig();
const dir = mkdtempSync(join(tmpdir(), 'bench-containers-'));
const settings = { checks: ['banned', 'headers'] as const, clamd: config.clamd, spamd: config.spamd, policy: config.policy };
let n = 0;

async function scanOnce(raw: string): Promise<number> {
  const path = join(dir, `m${++n}.eml`);
  writeFileSync(path, raw);
  const started = performance.now();
  const results = await scanMessage({ spoolPath: path, size: raw.length, head: await readHead(path) }, settings);
  if (results.some((r) => r.result === 'error')) throw new Error(JSON.stringify(results));
  return performance.now() - started;
}

async function median(runs: number, sessions: number, make: () => string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(...(await Promise.all(Array.from({ length: sessions }, () => scanOnce(make())))));
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

try {
  const payload = randomBytes(10 * 1024 * 1024);
  const image = iso([
    { name: 'data.bin', data: payload },
    { name: 'readme.txt', data: Buffer.from('hi') },
  ]);
  const isoMessage = buildMessage({ attachments: [{ filename: 'disk.iso', content: image }] });
  const plainMessage = buildMessage({ attachments: [{ filename: 'data.bin', content: image }] });
  const archive = sevenZip([
    { name: 'report.pdf', data: randomBytes(200 * 1024) },
    { name: 'notes.txt', data: Buffer.from('x'.repeat(50_000)) },
  ]);
  const sevenMessage = buildMessage({ attachments: [{ filename: 'files.7z', content: archive }] });
  const sevenPlain = buildMessage({ attachments: [{ filename: 'files.bin', content: randomBytes(archive.length) }] });
  const rarMessage = buildMessage({
    attachments: [
      {
        filename: 'files.rar',
        content: rar4([
          { name: 'report.pdf', data: randomBytes(200 * 1024) },
          { name: 'notes.txt', data: Buffer.from('x'.repeat(50_000)) },
        ]),
      },
    ],
  });
  const iso10MbMs = await median(5, 1, () => isoMessage);
  const plain10MbMs = await median(5, 1, () => plainMessage);
  const sevenZipAt10SessionsMs = await median(5, 10, () => sevenMessage);
  const rarAt10SessionsMs = await median(5, 10, () => rarMessage);
  const plainAt10SessionsMs = await median(5, 10, () => sevenPlain);
  const round = (n: number) => Math.round(n);
  const figures = {
    iso10MbMs: round(iso10MbMs),
    plain10MbMs: round(plain10MbMs),
    isoAddedMs: round(iso10MbMs - plain10MbMs),
    isoOverPlain: +(iso10MbMs / plain10MbMs).toFixed(2),
    sevenZipAt10SessionsMs: round(sevenZipAt10SessionsMs),
    rarAt10SessionsMs: round(rarAt10SessionsMs),
    plainAt10SessionsMs: round(plainAt10SessionsMs),
    sevenZipAddedMs: round(sevenZipAt10SessionsMs - plainAt10SessionsMs),
    sevenZipOverPlain: +(sevenZipAt10SessionsMs / plainAt10SessionsMs).toFixed(2),
    rarOverPlain: +(rarAt10SessionsMs / plainAt10SessionsMs).toFixed(2),
  };
  console.log(JSON.stringify(figures, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
