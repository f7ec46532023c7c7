// The decoder layer through the banned check, one format at a time, with fixtures made by Debian's
// tools at test time: an executable inside is BANNED, damage is a decision (never a crash), what
// cannot be decoded is UNCHECKED, and look-alikes stay clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { scanMessage } from '../../../runtime/filter/scan.js';
import { readHead } from '../../../runtime/mail/message-head.js';
import { defaultConfig } from '../../../runtime/config/load.js';
import type { CheckResult } from '../../../runtime/checks/result.js';
import { InspectionBudget } from '../../../runtime/checks/budget.js';
import { unpackWith7zz } from '../../../runtime/checks/seven-zip.js';
import { buildMessage, type Attachment } from '../../support/messages.js';
import { zip } from '../../support/archives.js';
import * as make from '../../support/containers.js';

const config = defaultConfig();
type Policy = typeof config.policy;

interface Outcome {
  banned: CheckResult;
  unchecked: CheckResult | undefined;
}

async function inspectRaw(raw: string | Buffer, policy: Partial<Policy> = {}): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'containers-'));
  try {
    const path = join(dir, 'm.eml');
    writeFileSync(path, raw);
    const settings = { checks: ['banned'] as const, clamd: config.clamd, spamd: config.spamd, policy: { ...config.policy, ...policy } };
    const results = await scanMessage({ spoolPath: path, size: Buffer.byteLength(raw), head: await readHead(path) }, settings);
    const banned = results.find((r) => r.check === 'banned')!;
    assert.notEqual(banned.result, 'error', `inspection failed: ${banned.detail}`);
    return { banned, unchecked: results.find((r) => r.check === 'unchecked') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const inspect = (attachments: Attachment[], policy: Partial<Policy> = {}) => inspectRaw(buildMessage({ attachments }), policy);
const exe = make.peExecutable();
const readme = { name: 'readme.txt', data: Buffer.from('Read me first.\n') };
const withExe = (name = 'tools/setup.exe') => [readme, { name, data: exe }];
const clean = [readme, { name: 'notes.txt', data: Buffer.from('MZ is where the office is.\n') }];

const formats: Array<[string, (files: make.FixtureFile[]) => Buffer]> = [
  ['payload.7z', (f) => make.sevenZip(f)],
  ['payload.cab', (f) => make.cab(f.map((x) => ({ ...x, name: x.name.replace(/.*\//, '') })))],
  ['payload.iso', (f) => make.iso(f)],
  ['payload-udf.iso', (f) => make.iso(f, { udf: true })],
  ['payload.arj', (f) => make.arj(f.map((x) => ({ ...x, name: x.name.replace(/.*\//, '') })))],
  ['payload.lzh', (f) => make.lzh(f)],
  ['payload.img', (f) => make.fatImage(f.map((x) => ({ ...x, name: x.name.replace(/.*\//, '') })))],
  ['payload.vhd', (f) => make.vhd(make.fatImage(f.map((x) => ({ ...x, name: x.name.replace(/.*\//, '') }))))],
  ['payload.rar', (f) => make.rar4(f)],
  ['payload-v5.rar', (f) => make.rar5(f)],
  ['winmail.dat', (f) => make.tnef(f.map((x) => ({ ...x, name: x.name.replace(/.*\//, '') })))],
];

for (const [filename, build] of formats) {
  test(`${filename}: an executable inside is BANNED, by name and renamed`, { timeout: 60_000 }, async () => {
    const named = await inspect([{ filename, content: build(withExe()) }]);
    assert.equal(named.banned.result, 'fail', named.banned.detail);
    assert.match(named.banned.detail, /setup\.exe: \.exe file/);
    const renamed = await inspect([{ filename: filename.replace(/^payload/, 'photos'), content: build(withExe('holiday.jpg')) }]);
    assert.equal(renamed.banned.result, 'fail', renamed.banned.detail);
    assert.match(renamed.banned.detail, /holiday\.jpg: Windows executable \(PE\)/);
  });

  test(`${filename}: harmless files pass with nothing unchecked`, { timeout: 60_000 }, async () => {
    const outcome = await inspect([{ filename, content: build(clean) }]);
    assert.equal(outcome.banned.result, 'pass', outcome.banned.detail);
    assert.equal(outcome.unchecked, undefined, outcome.unchecked?.detail);
  });

  test(`${filename}: truncated and corrupted copies give a decision, never a crash`, { timeout: 60_000 }, async () => {
    const good = build(withExe());
    const corrupt = Buffer.from(good);
    for (let i = Math.floor(good.length / 3); i < good.length; i += 7) corrupt[i] = (corrupt[i]! ^ 0x5a) & 0xff;
    for (const damaged of [good.subarray(0, Math.floor(good.length / 2)), good.subarray(0, 40), corrupt]) {
      const outcome = await inspect([{ filename, content: damaged }]);
      assert.ok(outcome.banned.result === 'fail' || outcome.banned.result === 'pass');
      // Damage either leaves the executable's name readable, or says what could not be decoded.
      if (outcome.banned.result === 'pass' && !/img|vhd/.test(filename))
        assert.equal(outcome.unchecked?.result, 'fail', `${filename} damaged: ${outcome.banned.detail}`);
    }
  });
}

test('xz and zstd around an executable are BANNED', { timeout: 60_000 }, async () => {
  for (const [filename, content] of [
    ['tool.exe.xz', make.xz(exe)],
    ['invoice.pdf.zst', make.zstd(exe)],
  ] as const) {
    const outcome = await inspect([{ filename, content }]);
    assert.equal(outcome.banned.result, 'fail', `${filename}: ${outcome.banned.detail}`);
  }
});

test('TNEF from our writer reads the same in Debian’s tnef; winmail.dat is opened whatever its name', { timeout: 60_000 }, async () => {
  const data = make.tnef([{ name: 'quarterly-report.exe', data: exe }, readme]);
  assert.deepEqual(
    make.tnefListedByDebian(data).map((l) => l.split(/\s/)[0]),
    ['quarterly-report.exe', 'readme.txt'],
  );
  const outcome = await inspect([{ filename: 'winmail.dat', contentType: 'application/ms-tnef', content: data }]);
  assert.match(outcome.banned.detail, /winmail\.dat > quarterly-report\.exe: \.exe file/);
});

test('7z with hidden (encrypted) names is UNCHECKED; with visible names the names still count', { timeout: 60_000 }, async () => {
  const hidden = await inspect([{ filename: 'secret.7z', content: make.sevenZip(withExe(), { password: 'pw', hideNames: true }) }]);
  assert.equal(hidden.banned.result, 'pass');
  assert.match(hidden.unchecked?.detail ?? '', /secret\.7z: 7z encrypted, names hidden/);
  const visible = await inspect([{ filename: 'secret.7z', content: make.sevenZip(withExe(), { password: 'pw' }) }]);
  assert.match(visible.banned.detail, /setup\.exe: \.exe file/);
  const encryptedText = await inspect([{ filename: 'secret.7z', content: make.sevenZip([readme], { password: 'pw' }) }]);
  assert.match(encryptedText.unchecked?.detail ?? '', /readme\.txt: encrypted, content not checked/);
});

test('RAR: hidden (encrypted) names and an unreadable RAR are UNCHECKED, never clean; what can be listed is judged', { timeout: 60_000 }, async () => {
  const hidden = await inspect([{ filename: 'secret.rar', content: make.rar4(withExe(), { encryptedNames: true }) }]);
  assert.equal(hidden.banned.result, 'pass');
  assert.match(hidden.unchecked?.detail ?? '', /secret\.rar: rar encrypted, names hidden/);
  const garbage = Buffer.concat([Buffer.from('Rar!\x1a\x07\x01\x00', 'latin1'), Buffer.alloc(200, 3)]);
  const unreadable = await inspect([{ filename: 'invoice.rar', content: garbage }]);
  assert.equal(unreadable.unchecked?.result, 'fail');
  assert.match(unreadable.unchecked?.detail ?? '', /invoice\.rar: rar/);
  // Encrypted members (names visible): the names count, the content is UNCHECKED.
  const locked = [(f: make.FixtureFile[]) => make.rar4(f, { encryptedData: true }), (f: make.FixtureFile[]) => make.rar5(f, { encryptedData: true })];
  for (const lock of locked) {
    const named = await inspect([{ filename: 'locked.rar', content: lock(withExe()) }]);
    assert.match(named.banned.detail, /locked\.rar > tools\/setup\.exe: \.exe file/);
    const text = await inspect([{ filename: 'locked.rar', content: lock([readme]) }]);
    assert.equal(text.banned.result, 'pass', text.banned.detail);
    assert.match(text.unchecked?.detail ?? '', /locked\.rar > .*encrypted/);
  }
  // An executable's name in a RAR inside a zip: the names decide, whatever the nesting.
  const nested = await inspect([{ filename: 'docs.zip', content: zip([{ name: 'inner.rar', data: make.rar5(withExe()) }]) }]);
  assert.match(nested.banned.detail, /docs\.zip > inner\.rar > tools\/setup\.exe: \.exe file/);
});

test('uuencoded and yEnc blocks in text parts are judged like attachments', { timeout: 60_000 }, async () => {
  const uu = await inspectRaw(buildMessage({ body: `Here it is:\r\n\r\n${make.uuencode('update.exe', exe)}\r\n\r\nBye\r\n` }));
  assert.match(uu.banned.detail, /update\.exe \(uuencode\): \.exe file/);
  const renamed = await inspectRaw(buildMessage({ body: `${make.uuencode('cat.gif', exe)}\r\n` }));
  assert.match(renamed.banned.detail, /cat\.gif \(uuencode\): Windows executable/);
  const zipped = await inspectRaw(buildMessage({ body: `${make.uuencode('docs.zip', zip(withExe()))}\r\n` }));
  assert.match(zipped.banned.detail, /docs\.zip \(uuencode\) > tools\/setup\.exe/);
  const yenc = Buffer.from(buildMessage({ body: `${make.yencode('run.exe', exe)}\r\n` }), 'latin1');
  assert.match((await inspectRaw(yenc)).banned.detail, /run\.exe \(yenc\): \.exe file/);
});

test('nests: an .eml in a zip, a 7z in a zip, a zip in a TNEF, down to the budget', { timeout: 60_000 }, async () => {
  const eml = Buffer.from(buildMessage({ subject: 'inner', attachments: [{ filename: 'report.scr', content: exe }] }));
  const emlInZip = await inspect([{ filename: 'mail.zip', content: zip([{ name: 'forwarded.eml', data: eml }]) }]);
  assert.match(emlInZip.banned.detail, /mail\.zip > forwarded\.eml > report\.scr/);
  const sevenInZip = await inspect([{ filename: 'outer.zip', content: zip([{ name: 'inner.7z', data: make.sevenZip(withExe()) }]) }]);
  assert.match(sevenInZip.banned.detail, /outer\.zip > inner\.7z > tools\/setup\.exe/);
  const zipInTnef = await inspect([{ filename: 'winmail.dat', content: make.tnef([{ name: 'a.zip', data: zip(withExe()) }]) }]);
  assert.match(zipInTnef.banned.detail, /winmail\.dat > a\.zip > tools\/setup\.exe/);
});

test('past the depth budget a nest is UNCHECKED, never clean; an executable before it is still BANNED', { timeout: 60_000 }, async () => {
  let nest = make.sevenZip([readme]);
  for (let level = 0; level < 6; level++)
    nest = level % 2 ? make.sevenZip([{ name: `l${level}.zip`, data: nest }]) : zip([{ name: `l${level}.7z`, data: nest }]);
  const deep = await inspect([{ filename: 'nest.7z', content: nest }]);
  assert.equal(deep.banned.result, 'pass');
  assert.match(deep.unchecked?.detail ?? '', /nests containers more than 4 deep/);
  const withExeOnTop = await inspect([
    {
      filename: 'nest.zip',
      content: zip([
        { name: 'x.exe', data: exe },
        { name: 'deep.7z', data: nest },
      ]),
    },
  ]);
  assert.equal(withExeOnTop.banned.result, 'fail');
  assert.equal(withExeOnTop.unchecked?.result, 'fail');
});

test('a bomb is BANNED; merely too much to unpack is UNCHECKED', { timeout: 60_000 }, async () => {
  const bomb = await inspect([{ filename: 'zeros.7z', content: make.sevenZip([{ name: 'zeros.bin', data: Buffer.alloc(40 * 1024 * 1024) }]) }], {
    maxArchiveBytes: 8 * 1024 * 1024,
  });
  assert.match(bomb.banned.detail, /archive bomb/);
  const many = await inspect([{ filename: 'many.zip', content: zip(Array.from({ length: 40 }, (_, i) => ({ name: `f${i}.txt`, data: Buffer.from('x') }))) }], {
    maxArchiveEntries: 20,
  });
  assert.equal(many.banned.result, 'pass');
  assert.match(many.unchecked?.detail ?? '', /more than 20 files/);
});

test('the time budget ends decoding: UNCHECKED, not clean', { timeout: 60_000 }, async () => {
  const files = Array.from({ length: 60 }, (_, i) => ({ name: `n${i}.7z`, data: make.sevenZip([readme]) }));
  const outcome = await inspect([{ filename: 'slow.zip', content: zip(files) }], { maxInspectionSeconds: 0.2 as number });
  assert.match(outcome.unchecked?.detail ?? '', /took longer than|timed out/);
});

test('macro-enabled Office files: allowed by default, BANNED with the policy on', { timeout: 60_000 }, async () => {
  const docm = zip([
    { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
    { name: 'word/vbaProject.bin', data: make.ole2([{ name: 'VBA', storage: true }]) },
  ]);
  const xls = make.ole2([{ name: 'Workbook' }, { name: '_VBA_PROJECT_CUR', storage: true }]);
  assert.equal(
    (
      await inspect([
        { filename: 'letter.docm', content: docm },
        { filename: 'sheet.xls', content: xls },
      ])
    ).banned.result,
    'pass',
  );
  const banned = await inspect(
    [
      { filename: 'letter.docm', content: docm },
      { filename: 'sheet.xls', content: xls },
    ],
    { banMacroDocuments: true },
  );
  assert.match(banned.banned.detail, /letter\.docm: macro-enabled Office document/);
  assert.match(banned.banned.detail, /sheet\.xls: Office document with VBA macros/);
  const plainDoc = make.ole2([{ name: 'WordDocument' }]);
  assert.equal((await inspect([{ filename: 'plain.doc', content: plainDoc }], { banMacroDocuments: true })).banned.result, 'pass');
});

test('an MSI is an installer by its class id, whatever its name', { timeout: 60_000 }, async () => {
  const outcome = await inspect([{ filename: 'invoice.doc', content: make.ole2([{ name: 'SummaryInformation' }], make.MSI_CLASS) }]);
  assert.match(outcome.banned.detail, /invoice\.doc: Windows Installer package \(MSI\) by content/);
});

test('clean look-alikes pass: "setup.exe.txt", text starting "MZ", a 300-file zip, a gzip of text', { timeout: 60_000 }, async () => {
  const outcome = await inspect([
    { filename: 'setup.exe.txt', contentType: 'text/plain', content: 'Run setup.exe from the share.\n' },
    { filename: 'mz.txt', contentType: 'text/plain', content: 'MZ-2 office opens at nine.\n'.repeat(100) },
    { filename: 'mz.bin', content: Buffer.from('MZ' + 'x'.repeat(600)) },
    { filename: 'archive.zip', content: zip(Array.from({ length: 300 }, (_, i) => ({ name: `docs/file-${i}.txt`, data: Buffer.from(`file ${i}`) }))) },
    { filename: 'log.gz', content: gzipSync(Buffer.from('log line\n'.repeat(1000))) },
  ]);
  assert.equal(outcome.banned.result, 'pass', outcome.banned.detail);
  assert.equal(outcome.unchecked, undefined, outcome.unchecked?.detail);
});

function multipart(type: string, parts: string[]): string {
  const boundary = `b${Math.random().toString(16).slice(2)}`;
  return [
    'From: a@company.com',
    'To: b@company.local',
    'Subject: look-alike',
    'Date: Mon, 1 Jan 2024 00:00:00 +0000',
    'MIME-Version: 1.0',
    `Content-Type: ${type}; boundary="${boundary}"`,
    '',
    ...parts.flatMap((p) => [`--${boundary}`, p]),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

test('clean look-alikes pass: signed and encrypted mail, a DSN, a calendar invite', { timeout: 60_000 }, async () => {
  const b64 = (data: Buffer) => data.toString('base64').replace(/.{76}/g, '$&\r\n');
  const signed = multipart('multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256', [
    'Content-Type: text/plain\r\n\r\nSigned text.\r\n',
    `Content-Type: application/pkcs7-signature; name="smime.p7s"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="smime.p7s"\r\n\r\n${b64(Buffer.from('3082', 'hex'))}\r\n`,
  ]);
  const encrypted = [
    'From: a@company.com',
    'To: b@company.local',
    'Subject: secret',
    'Date: Mon, 1 Jan 2024 00:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="smime.p7m"',
    '',
    b64(Buffer.concat([Buffer.from('3080', 'hex'), Buffer.alloc(3000, 0x41)])),
    '',
  ].join('\r\n');
  const pgp = multipart('multipart/encrypted; protocol="application/pgp-encrypted"', [
    'Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n',
    'Content-Type: application/octet-stream; name="encrypted.asc"\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA5x\r\n-----END PGP MESSAGE-----\r\n',
  ]);
  const dsn = multipart('multipart/report; report-type=delivery-status', [
    'Content-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n',
    'Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.company.com\r\n\r\nFinal-Recipient: rfc822; x@company.local\r\nAction: failed\r\nStatus: 5.1.1\r\n',
    `Content-Type: message/rfc822\r\n\r\n${buildMessage({ subject: 'original' })}\r\n`,
  ]);
  const invite = multipart('multipart/alternative', [
    'Content-Type: text/plain\r\n\r\nMeeting on Monday.\r\n',
    'Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:begin 644 planning\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n',
  ]);
  for (const [label, raw] of [
    ['signed', signed],
    ['S/MIME encrypted', encrypted],
    ['PGP encrypted', pgp],
    ['DSN', dsn],
    ['invite', invite],
  ] as const) {
    const outcome = await inspectRaw(raw);
    assert.equal(outcome.banned.result, 'pass', `${label}: ${outcome.banned.detail}`);
    assert.equal(outcome.unchecked, undefined, `${label}: ${outcome.unchecked?.detail}`);
  }
});

test('7-Zip: a banned name in the listing decides, and nothing is unpacked', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'listing-decides-'));
  try {
    const path = join(dir, 'disk.iso');
    writeFileSync(path, make.iso(withExe()));
    const budget = new InspectionBudget({ maxBytes: 1 << 30, maxEntries: 100, maxDepth: 4, maxSeconds: 60 });
    const decided = await unpackWith7zz(path, 'iso', dir, 'out', budget, (name) => name.endsWith('.exe'));
    assert.equal(decided.byNameOnly, true);
    assert.ok(decided.files.some((f) => f.name.endsWith('setup.exe')));
    assert.deepEqual(readdirSync(dir), ['disk.iso']);
    const unpacked = await unpackWith7zz(path, 'iso', dir, 'out', budget);
    assert.equal(unpacked.byNameOnly, undefined);
    assert.ok(unpacked.files.every((f: { path?: string }) => f.path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
