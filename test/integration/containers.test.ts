// Every new container format through the real chain (Postfix, our filter, clamd, spamd, the sink):
// an executable inside is BANNED, EICAR inside is caught, an undecodable one arrives tagged UNCHECKED.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startChain, type Chain } from '../support/chain.js';
import { buildMessage } from '../support/messages.js';
import { EICAR } from '../support/eicar.js';
import { zip } from '../support/archives.js';
import { waitFor } from '../support/net.js';
import * as make from '../support/containers.js';

let chain: Chain | undefined;
const sender = 'alice@company.com';

before(
  async () => {
    chain = await startChain();
  },
  { timeout: 240_000 },
);

after(
  async () => {
    await chain?.stop();
  },
  { timeout: 60_000 },
);

let seq = 0;
const uniqueSubject = (label: string) => `${label} #${++seq} ${Date.now()}`;
const quarantinedAs = (subject: string) => waitFor(`"${subject}" in quarantine`, async () => (await chain!.filter.store.list({ search: subject }))[0], 60_000);

const exe = make.peExecutable();
const readme = { name: 'readme.txt', data: Buffer.from('Read me first.\n') };
const flat = (name: string, data: Buffer) => [readme, { name, data }];

const formats: Array<[string, (files: make.FixtureFile[]) => Buffer]> = [
  ['7z', (f) => make.sevenZip(f)],
  ['cab', (f) => make.cab(f)],
  ['iso', (f) => make.iso(f)],
  ['arj', (f) => make.arj(f)],
  ['lzh', (f) => make.lzh(f)],
  ['img', (f) => make.fatImage(f)],
  ['vhd', (f) => make.vhd(make.fatImage(f))],
  ['rar', (f) => make.rar4(f)],
];

for (const [ext, build] of formats) {
  test(`an executable in a .${ext} is quarantined as BANNED`, { timeout: 120_000 }, async () => {
    const subject = uniqueSubject(`exe in ${ext}`);
    await chain!.send(buildMessage({ subject, attachments: [{ filename: `files.${ext}`, content: build(flat('setup.exe', exe)) }] }), {
      from: sender,
      to: ['bob@company.local'],
    });
    const entry = await quarantinedAs(subject);
    assert.equal(entry.reason, 'BANNED', entry.detail);
    assert.match(entry.detail, new RegExp(`files\\.${ext} > setup\\.exe`));
  });

  test(`EICAR in a .${ext} is caught`, { timeout: 120_000 }, async () => {
    const subject = uniqueSubject(`eicar in ${ext}`);
    await chain!.send(buildMessage({ subject, attachments: [{ filename: `files.${ext}`, content: build(flat('eicar.txt', Buffer.from(EICAR))) }] }), {
      from: sender,
      to: ['bob@company.local'],
    });
    const entry = await quarantinedAs(subject);
    assert.equal(entry.reason, 'VIRUS', entry.detail);
  });
}

test('TNEF, a uuencoded body and a nest of .eml in zip are BANNED', { timeout: 120_000 }, async () => {
  const inner = Buffer.from(buildMessage({ subject: 'forwarded', attachments: [{ filename: 'invoice.scr', content: exe }] }));
  const cases = [
    { label: 'tnef', attachments: [{ filename: 'winmail.dat', contentType: 'application/ms-tnef', content: make.tnef(flat('report.exe', exe)) }] },
    { label: 'uuencoded', body: `See below.\r\n\r\n${make.uuencode('update.exe', exe)}\r\n` },
    { label: 'eml in zip', attachments: [{ filename: 'mail.zip', content: zip([{ name: 'fwd.eml', data: inner }]) }] },
    { label: '7z in zip', attachments: [{ filename: 'outer.zip', content: zip([{ name: 'inner.7z', data: make.sevenZip(flat('x.exe', exe)) }]) }] },
  ];
  for (const { label, ...spec } of cases) {
    const subject = uniqueSubject(label);
    await chain!.send(buildMessage({ subject, ...spec }), { from: sender, to: ['bob@company.local'] });
    const entry = await quarantinedAs(subject);
    assert.equal(entry.reason, 'BANNED', `${label}: ${entry.detail}`);
  }
});

test('EICAR in TNEF, a uuencoded body, an .eml in a zip, a 7z in a zip, a RAR 5, xz and a UDF image is caught', { timeout: 180_000 }, async () => {
  const eicar = Buffer.from(EICAR);
  const inner = Buffer.from(buildMessage({ subject: 'forwarded', attachments: [{ filename: 'note.txt', content: eicar }] }));
  const cases = [
    { label: 'tnef', attachments: [{ filename: 'winmail.dat', contentType: 'application/ms-tnef', content: make.tnef(flat('test.com', eicar)) }] },
    { label: 'uuencoded', body: `See below.\r\n\r\n${make.uuencode('test.com', eicar)}\r\n` },
    { label: 'eml in zip', attachments: [{ filename: 'mail.zip', content: zip([{ name: 'fwd.eml', data: inner }]) }] },
    { label: '7z in zip', attachments: [{ filename: 'outer.zip', content: zip([{ name: 'inner.7z', data: make.sevenZip(flat('eicar.txt', eicar)) }]) }] },
    { label: 'rar5', attachments: [{ filename: 'files.rar', content: make.rar5(flat('eicar.txt', eicar)) }] },
    { label: 'xz', attachments: [{ filename: 'eicar.txt.xz', content: make.xz(eicar) }] },
    { label: 'udf', attachments: [{ filename: 'disk.iso', content: make.iso(flat('eicar.txt', eicar), { udf: true }) }] },
  ];
  for (const { label, ...spec } of cases) {
    const subject = uniqueSubject(`eicar ${label}`);
    await chain!.send(buildMessage({ subject, ...spec }), { from: sender, to: ['bob@company.local'] });
    const entry = await quarantinedAs(subject);
    assert.equal(entry.reason, 'VIRUS', `${label}: ${entry.detail}`);
  }
});

test('a 7z with hidden names arrives tagged ***UNCHECKED*** and says why', { timeout: 120_000 }, async () => {
  const subject = uniqueSubject('hidden names');
  await chain!.send(
    buildMessage({ subject, attachments: [{ filename: 'secret.7z', content: make.sevenZip(flat('setup.exe', exe), { password: 'pw', hideNames: true }) }] }),
    { from: sender, to: ['bob@company.local'] },
  );
  const message = await chain!.sink.waitFor((m) => m.raw.includes(subject), 60_000);
  assert.match(message.raw, new RegExp(`^Subject: \\*\\*\\*UNCHECKED\\*\\*\\* ${subject.replace(/[#]/g, '.')}`, 'm'));
  assert.match(message.raw, /^X-Mailfilter-Alert: UNCHECKED: secret\.7z: 7z encrypted, names hidden/m);
});

test('with D_DISCARD for UNCHECKED, a corrupt ISO is held as UNCHECKED', { timeout: 120_000 }, async () => {
  await chain!.usePolicy({ uncheckedDestiny: 'D_DISCARD' });
  try {
    const subject = uniqueSubject('corrupt iso');
    const image = make.iso(flat('a.txt', Buffer.from('x')));
    await chain!.send(buildMessage({ subject, attachments: [{ filename: 'disk.iso', content: image.subarray(0, 34000) }] }), {
      from: sender,
      to: ['bob@company.local'],
    });
    const entry = await quarantinedAs(subject);
    assert.equal(entry.reason, 'UNCHECKED', entry.detail);
    assert.match(entry.detail, /disk\.iso/);
  } finally {
    await chain!.usePolicy({});
  }
});
