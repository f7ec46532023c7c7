// Added inspection latency of the container decoders, without the chain: a 10 MB ISO attachment
// alone, and a 7z (and a RAR) attachment at 10 messages at once, against the same message with a
// plain attachment of the same size, measured in the same run. `node --import tsx bench/containers.ts`
// (run by `npm run bench` after bench.ts): writes bench/results/containers.json and the
// "Containers" section at the end of docs/benchmarks.md.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
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

const SECTION = '## Containers (bench/containers.ts)';

/** Replaces the Containers section of docs/benchmarks.md (bench.ts rewrites the rest of it). */
function writeReport(figures: Record<string, number>): void {
  mkdirSync('bench/results', { recursive: true });
  const date = new Date().toISOString();
  writeFileSync('bench/results/containers.json', JSON.stringify({ date, cpus: cpus().length, figures }, null, 2) + '\n');
  const doc = existsSync('docs/benchmarks.md') ? readFileSync('docs/benchmarks.md', 'utf8') : '# Benchmarks\n';
  const before = doc.includes(SECTION) ? doc.slice(0, doc.indexOf(SECTION)) : `${doc.trimEnd()}\n\n`;
  const f = figures as Record<string, number>;
  const section = [
    SECTION,
    '',
    `Run on ${date.slice(0, 10)}, ${cpus().length} cores. The banned and header checks alone (no chain, no clamd), median time per message, each container against a message with a plain attachment of the same size in the same run. 7-Zip runs for the ISO (list, then unpack); the 7z and the RAR are read by one bsdtar run each.`,
    '',
    '| attachment | sessions | container ms | plain ms | added ms | container / plain |',
    '|---|---|---|---|---|---|',
    `| 10 MB ISO | 1 | ${f.iso10MbMs} | ${f.plain10MbMs} | ${f.isoAddedMs} | ${f.isoOverPlain}x |`,
    `| 250 KB 7z | 10 | ${f.sevenZipAt10SessionsMs} | ${f.plainAt10SessionsMs} | ${f.sevenZipAddedMs} | ${f.sevenZipOverPlain}x |`,
    `| 250 KB RAR | 10 | ${f.rarAt10SessionsMs} | ${f.plainAt10SessionsMs} | ${f.rarAt10SessionsMs! - f.plainAt10SessionsMs!} | ${f.rarOverPlain}x |`,
    '',
  ];
  writeFileSync('docs/benchmarks.md', before + section.join('\n'));
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
  writeReport(figures);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
