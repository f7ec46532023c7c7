// Hostile input straight at the filter's LMTP port (real clamd and spamd behind it): malformed MIME,
// mutated messages, bombs. The daemon must answer every message with a clear reply, never crash,
// and every message it answered 250 must be at the next hop or in the quarantine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import nodemailer from 'nodemailer';
import { parseConfig } from '../../runtime/config/load.js';
import { startFilter, type RunningFilter } from '../../runtime/filter/daemon.js';
import { startClamd, type Clamd } from '../support/clamd.js';
import { startSpamd, type Spamd } from '../support/spamd.js';
import { startSink, type Sink } from '../support/sink.js';
import { freePort } from '../support/net.js';
import { buildMessage, FAKE_EXE } from '../support/messages.js';
import { zip } from '../support/archives.js';
import * as make from '../support/containers.js';

let dir: string;
let clamd: Clamd;
let spamd: Spamd;
let sink: Sink;
let filter: RunningFilter;
let filterPort: number;

before(
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailfilter-hostile-'));
    chmodSync(dir, 0o755);
    [clamd, spamd, sink] = await Promise.all([startClamd(join(dir, 'clamd')), startSpamd(join(dir, 'spamd')), startSink()]);
    filterPort = await freePort();
    const config = parseConfig({
      network: { hostname: 'mx.company.com' },
      // No Postfix here: the sink plays the re-injection listener.
      postfix: { reinjectPort: sink.port },
      filter: { listenPort: filterPort, spoolDir: join(dir, 'spool'), maxConnections: 4, maxMessageBytes: 8 * 1024 * 1024 },
      quarantine: { dir: join(dir, 'quarantine') },
      clamd: { socket: clamd.socket },
      spamd: { port: spamd.port },
      policy: { badHeaderDestiny: 'D_DISCARD', maxArchiveBytes: 16 * 1024 * 1024 },
    });
    filter = await startFilter(config);
  },
  { timeout: 180_000 },
);

after(async () => {
  await filter?.close();
  await Promise.all([clamd?.stop(), spamd?.stop(), sink?.stop()]);
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
});

/** Deterministic, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function nested(depth: number): string {
  let body = 'Content-Type: text/plain\r\n\r\ninnermost\r\n';
  for (let i = 0; i < depth; i++) body = `Content-Type: multipart/mixed; boundary="n${i}"\r\n\r\n--n${i}\r\n${body}--n${i}--\r\n`;
  return `From: a@company.com\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n${body}`;
}

function manyParts(count: number): string {
  const parts = Array.from({ length: count }, (_, i) => `--m\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('');
  return `From: a@company.com\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n${parts}--m--\r\n`;
}

function seeds(): Array<[string, string]> {
  return [
    ['plain', buildMessage({ subject: 'seed plain' })],
    ['attachment', buildMessage({ subject: 'seed attach', attachments: [{ filename: 'a.zip', content: zip([{ name: 'x.txt', data: Buffer.from('x') }]) }] })],
    ['exe', buildMessage({ subject: 'seed exe', attachments: [{ filename: 'run.exe', content: FAKE_EXE }] })],
    ['nested', nested(5)],
  ];
}

/** One message per decoder: the fuzzer truncates, flips and re-encodes their bytes too. */
function containerSeeds(): Array<[string, string]> {
  const files = [
    { name: 'a.txt', data: Buffer.from('text') },
    { name: 'b.exe', data: make.peExecutable() },
  ];
  const attach = (filename: string, content: Buffer) => buildMessage({ subject: `seed ${filename}`, attachments: [{ filename, content }] });
  return [
    ['7z', attach('x.7z', make.sevenZip(files))],
    ['cab', attach('x.cab', make.cab(files))],
    ['iso', attach('x.iso', make.iso(files))],
    ['arj', attach('x.arj', make.arj(files))],
    ['lzh', attach('x.lzh', make.lzh(files))],
    ['rar', attach('x.rar', make.rar4(files))],
    ['rar5', attach('x.rar', make.rar5(files))],
    ['tnef', attach('winmail.dat', make.tnef(files))],
    ['ole', attach('x.doc', make.ole2([{ name: 'VBA', storage: true }, { name: 'WordDocument' }]))],
    ['uuencode', buildMessage({ subject: 'seed uu', body: `${make.uuencode('b.exe', make.peExecutable())}\r\n` })],
  ];
}

/** Flips bytes inside one attachment's decoded content and re-encodes it, so the damage reaches the decoder. */
function damageAttachment(message: string, random: () => number): string {
  return message.replace(/\r\n\r\n([A-Za-z0-9+/=\r\n]{200,})\r\n--/, (whole, encoded: string) => {
    const data = Buffer.from(encoded.replace(/\r\n/g, ''), 'base64');
    const cut = random() < 0.4 ? data.subarray(0, Math.floor(random() * data.length)) : data;
    for (let i = 0; i < 1 + Math.floor(random() * 20); i++) if (cut.length) cut[Math.floor(random() * cut.length)] = Math.floor(random() * 256);
    return whole.replace(encoded, cut.toString('base64').replace(/.{76}/g, '$&\r\n'));
  });
}

function mutate(message: string, random: () => number): string {
  const bytes = Buffer.from(message, 'latin1');
  const at = Math.floor(random() * bytes.length);
  switch (Math.floor(random() * 8)) {
    case 0:
      return bytes.subarray(0, at).toString('latin1'); // truncated anywhere
    case 1:
      return message.replace(/--[A-Za-z0-9_]+--/g, ''); // closing boundaries gone
    case 2:
      return message.replace(/boundary="[^"]*"/, `boundary="${'\u0000'.repeat(3)}"`);
    case 3:
      return `${message.slice(0, at)}\u0000\u00ff\r\r\n\u0080${message.slice(at)}`;
    case 4:
      return message.replace(/Content-Transfer-Encoding: base64/g, 'Content-Transfer-Encoding: x-uuencode-ish');
    case 5:
      return message.replace(/\r\n\r\n/, `\r\nX-Long: ${'a'.repeat(5000 + Math.floor(random() * 50000))}\r\n\r\n`);
    case 6:
      return message.replace(/^/, '__proto__: polluted\r\nconstructor: x\r\nprototype: y\r\n');
    default:
      return message.replace(/[A-Za-z0-9+/]{20}/, '!!!!@@@@####$$$$%%%%');
  }
}

interface Sent {
  marker: string;
  codes: number[];
}

async function sendLmtp(raw: string, marker: string, to: string[]): Promise<Sent> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: filterPort, lmtp: true, ignoreTLS: true, socketTimeout: 120_000 });
  try {
    const info = await transport.sendMail({ envelope: { from: 'fuzz@example.net', to }, raw: `X-Fuzz-Id: ${marker}\r\n${raw}` });
    const rejected = (info.rejectedErrors ?? []) as Array<{ recipient: string; responseCode?: number }>;
    return { marker, codes: to.map((r) => rejected.find((e) => e.recipient === r)?.responseCode ?? 250) };
  } catch (err) {
    const error = err as { responseCode?: number; rejectedErrors?: Array<{ recipient: string; responseCode?: number }> };
    return { marker, codes: to.map((r) => error.rejectedErrors?.find((e) => e.recipient === r)?.responseCode ?? error.responseCode ?? 0) };
  } finally {
    transport.close();
  }
}

async function isSafe(marker: string): Promise<boolean> {
  if (sink.messages.some((m) => m.raw.includes(`X-Fuzz-Id: ${marker}\r`))) return true;
  // The held copy may carry our Authentication-Results above the original's first line.
  const heads = new RegExp(`(^|\n)X-Fuzz-Id: ${marker}\r`);
  return (await filter.store.list({ limit: 100000 })).some((entry) => heads.test(readFileSync(filter.store.filePath(entry), 'latin1')));
}

test('hand-made hostile messages each get a clear answer', async () => {
  const cases: Array<[string, string]> = [
    ['deep nesting', nested(300)],
    ['1500 parts', manyParts(1500)],
    ['no header at all', 'just a body line\r\n'],
    ['empty message', ''],
    ['header only, no blank line', 'From: a@company.com\r\nSubject: x'],
    ['gzip bomb', buildMessage({ subject: 'bomb', attachments: [{ filename: 'zeros.gz', content: gzipSync(Buffer.alloc(64 * 1024 * 1024)) }] })],
    [
      'corrupt zip',
      buildMessage({
        subject: 'corrupt zip',
        attachments: [{ filename: 'broken.zip', content: Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(300, 7)]) }],
      }),
    ],
    [
      'rfc2231 filename',
      buildMessage({ subject: 'rfc2231' }).replace(
        'Content-Type: text/plain; charset=utf-8',
        "Content-Type: application/octet-stream; name*=utf-8''evil%00.exe",
      ),
    ],
  ];
  for (const [label, raw] of cases) {
    const sent = await sendLmtp(raw, `hand-${label}`, ['bob@company.local']);
    const [code] = sent.codes;
    assert.ok(code && code >= 250 && code < 600, `${label}: got a reply code (${code})`);
    if (code === 250) assert.ok(await isSafe(sent.marker), `${label}: answered 250, so it must be delivered or quarantined`);
  }
  const bomb = (await filter.store.list({ search: 'bomb' }))[0];
  assert.equal(bomb?.reason, 'BANNED');
  assert.match(bomb?.detail ?? '', /archive bomb/);
});

test('a fuzz run of damaged containers (7z, CAB, ISO, ARJ, LZH, TNEF, OLE2, uuencode): no crash, nothing lost', { timeout: 600_000 }, async () => {
  const random = prng(20261202);
  const corpus = containerSeeds();
  const sent: Sent[] = [];
  for (let i = 0; i < 64; i++) {
    const [, seed] = corpus[i % corpus.length]!;
    const raw = random() < 0.8 ? damageAttachment(seed, random) : mutate(seed, random);
    sent.push(await sendLmtp(raw, `container-fuzz-${i}`, ['bob@company.local']));
  }
  const codes = sent.flatMap((s) => s.codes);
  assert.ok(
    codes.every((c) => c === 250 || c === 451 || c === 550 || c === 552 || c === 554),
    `only clear answers: ${[...new Set(codes)].join(',')}`,
  );
  assert.ok(codes.filter((c) => c === 451).length <= codes.length / 4, 'damage is a verdict, not a reason to retry');
  for (const s of sent.filter((x) => x.codes.includes(250))) assert.ok(await isSafe(s.marker), `${s.marker} answered 250 but is nowhere`);
});

test('a fuzz run of mutated messages: no crash, nothing lost', { timeout: 600_000 }, async () => {
  const random = prng(20261124);
  const corpus = seeds();
  const sent: Sent[] = [];
  for (let i = 0; i < 120; i++) {
    const [, seed] = corpus[i % corpus.length]!;
    let raw = mutate(seed, random);
    if (random() < 0.3) raw = mutate(raw, random);
    sent.push(await sendLmtp(raw, `fuzz-${i}`, ['bob@company.local', 'carol@company.local']));
  }
  const codes = sent.flatMap((s) => s.codes);
  assert.ok(
    codes.every((c) => c === 250 || c === 451 || c === 550 || c === 552 || c === 554),
    `only clear answers: ${[...new Set(codes)].join(',')}`,
  );
  for (const s of sent.filter((x) => x.codes.includes(250))) assert.ok(await isSafe(s.marker), `${s.marker} answered 250 but is nowhere`);
  // Still alive and filtering normally.
  const after = await sendLmtp(buildMessage({ subject: 'after the fuzz' }), 'after-fuzz', ['bob@company.local']);
  assert.deepEqual(after.codes, [250]);
  assert.ok(await isSafe('after-fuzz'));
});
