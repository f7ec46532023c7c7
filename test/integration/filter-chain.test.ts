// The content filter end to end, through real Postfix, clamd and spamd started here on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startChain, type Chain } from '../support/chain.js';
import { buildMessage, FAKE_EXE, GTUBE } from '../support/messages.js';
import { EICAR } from '../support/eicar.js';
import { zip, tar, gzip, bzip2 } from '../support/archives.js';
import { waitFor } from '../support/net.js';

let chain: Chain;
const sender = 'alice@company.com';

before(
  async () => {
    chain = await startChain();
  },
  { timeout: 240_000 },
);

after(async () => {
  await chain?.stop();
});

let seq = 0;
function uniqueSubject(label: string): string {
  seq += 1;
  return `${label} #${seq} ${Date.now()}`;
}

async function arrives(subject: string) {
  return chain.sink.waitFor((m) => m.raw.includes(subject), 60_000);
}

async function quarantinedAs(subject: string) {
  return waitFor(`"${subject}" in quarantine`, async () => (await chain.filter.store.list({ search: subject }))[0], 60_000);
}

function headerOf(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  return new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(head)?.[1];
}

test('clean mail is delivered to the final server with X-Virus-Scanned', async () => {
  const subject = uniqueSubject('clean');
  const sent = await chain.send(buildMessage({ subject }), { from: sender, to: ['bob@company.local'] });
  assert.deepEqual(sent.accepted, ['bob@company.local'], sent.response);
  const message = await arrives(subject);
  assert.deepEqual(message.to, ['bob@company.local']);
  assert.equal(headerOf(message.raw, 'X-Virus-Scanned'), 'mailfilter at company.com');
  assert.equal(headerOf(message.raw, 'X-Spam-Flag'), 'NO');
  assert.match(chain.postfix.log(), /status=sent/);
});

test('a virus is quarantined as VIRUS and its (almost surely forged) sender gets no DSN', async () => {
  const subject = uniqueSubject('virus');
  await chain.send(buildMessage({ subject, attachments: [{ filename: 'eicar.com.txt', contentType: 'text/plain', content: EICAR }] }), {
    from: sender,
    to: ['bob@company.local'],
  });
  const entry = await quarantinedAs(subject);
  assert.equal(entry.reason, 'VIRUS');
  assert.match(entry.detail, /Eicar/i);
  assert.deepEqual(entry.recipients, ['bob@company.local']);
  // No backscatter: a virus DSN waits for sender authentication (runtime/filter/decide.ts).
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(!chain.sink.messages.some((m) => m.from === '' && m.raw.includes(entry.id)), 'no DSN for a virus');
  assert.ok(!chain.sink.messages.some((m) => m.from !== '' && m.raw.includes(subject)), 'the virus must not be delivered');
});

test('GTUBE under D_PASS arrives marked and tagged', async () => {
  const subject = uniqueSubject('gtube pass');
  await chain.send(buildMessage({ subject, body: `Buy now\r\n${GTUBE}\r\n` }), { from: sender, to: ['bob@company.local'] });
  const message = await arrives(subject);
  assert.equal(headerOf(message.raw, 'X-Spam-Flag'), 'YES');
  assert.match(headerOf(message.raw, 'X-Spam-Status') ?? '', /^Yes, score=\d{3,4}(\.\d+)? required=6\.31 tests=\[.*GTUBE/);
  assert.match(headerOf(message.raw, 'X-Spam-Level') ?? '', /^\*{64}$/);
  assert.equal(headerOf(message.raw, 'Subject'), `***SPAM*** ${subject}`);
});

test('GTUBE under D_DISCARD is quarantined silently', async () => {
  await chain.usePolicy({ spamDestiny: 'D_DISCARD' });
  try {
    const subject = uniqueSubject('gtube discard');
    const sent = await chain.send(buildMessage({ subject, body: `${GTUBE}\r\n` }), { from: sender, to: ['bob@company.local', 'carol@company.local'] });
    assert.equal(sent.accepted.length, 2, sent.response);
    const entry = await quarantinedAs(subject);
    assert.equal(entry.reason, 'SPAM');
    assert.match(entry.detail, /score=\d{3,4}/);
    assert.deepEqual([...entry.recipients].sort(), ['bob@company.local', 'carol@company.local']);
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(!chain.sink.messages.some((m) => m.raw.includes(subject) || m.raw.includes(entry.id)), 'neither the message nor a DSN may leave');
  } finally {
    await chain.usePolicy({});
  }
});

const exeCases: Array<[string, () => { filename: string; content: Buffer }]> = [
  ['a plain .exe', () => ({ filename: 'setup.exe', content: FAKE_EXE })],
  ['an .exe renamed to .pdf', () => ({ filename: 'invoice.pdf', content: FAKE_EXE })],
];
const archivedCases: Array<[string, () => { filename: string; content: Buffer }]> = [
  [
    'an .exe in a zip',
    () => ({
      filename: 'docs.zip',
      content: zip([
        { name: 'readme.txt', data: Buffer.from('hi') },
        { name: 'tools/setup.exe', data: FAKE_EXE },
      ]),
    }),
  ],
  ['an .exe in a .tar.gz', () => ({ filename: 'docs.tar.gz', content: gzip(tar([{ name: 'setup.exe', data: FAKE_EXE }])) })],
  ['a renamed .exe in a .tbz', () => ({ filename: 'docs.tbz', content: bzip2(tar([{ name: 'photo.jpg', data: FAKE_EXE }])) })],
  ['an .exe in a zip in a zip', () => ({ filename: 'outer.zip', content: zip([{ name: 'inner.zip', data: zip([{ name: 'x.scr', data: FAKE_EXE }]) }]) })],
];

for (const [label, make] of [...exeCases, ...archivedCases]) {
  test(`${label} is quarantined as BANNED and bounced`, async () => {
    const subject = uniqueSubject(label);
    await chain.send(buildMessage({ subject, attachments: [make()] }), { from: sender, to: ['bob@company.local'] });
    const entry = await quarantinedAs(subject);
    assert.equal(entry.reason, 'BANNED', entry.detail);
    assert.match(entry.detail, /\.(exe|scr)/);
    const dsn = await chain.sink.waitFor((m) => m.from === '' && m.raw.includes(entry.id));
    assert.deepEqual(dsn.to, [sender]);
    assert.match(dsn.raw, /report-type=delivery-status/);
    assert.match(dsn.raw, /Status: 5\.7\.0/);
    assert.ok(!dsn.raw.includes(FAKE_EXE.toString('base64').slice(0, 40)), 'the DSN must not carry the file');
  });
}

test('with "allow banned inside archives", archived executables pass and bare ones do not', async () => {
  await chain.usePolicy({ allowBannedInArchives: true });
  try {
    for (const [label, make] of archivedCases) {
      const subject = uniqueSubject(`allowed ${label}`);
      await chain.send(buildMessage({ subject, attachments: [make()] }), { from: sender, to: ['bob@company.local'] });
      await arrives(subject);
    }
    const subject = uniqueSubject('bare exe still banned');
    await chain.send(buildMessage({ subject, attachments: [{ filename: 'setup.exe', content: FAKE_EXE }] }), { from: sender, to: ['bob@company.local'] });
    assert.equal((await quarantinedAs(subject)).reason, 'BANNED');
  } finally {
    await chain.usePolicy({});
  }
});

test('a bad header is caught: marked under D_PASS, quarantined under D_DISCARD', async () => {
  const subject = uniqueSubject('bad header');
  const raw = buildMessage({ subject }).replace(/^Date: .*$/m, 'Date: yesterday-ish');
  await chain.send(raw, { from: sender, to: ['bob@company.local'] });
  const delivered = await arrives(subject);
  assert.match(headerOf(delivered.raw, 'X-Mailfilter-Alert') ?? '', /^BADH: invalid Date/);

  await chain.usePolicy({ badHeaderDestiny: 'D_DISCARD' });
  try {
    const subject2 = uniqueSubject('bad header discard');
    const raw8bit = buildMessage({ subject: subject2 }).replace(/^From: .*$/m, 'From: J\u00fcrgen <j@company.com>');
    await chain.send(raw8bit, { from: sender, to: ['bob@company.local'] });
    const entry = await quarantinedAs(subject2);
    assert.equal(entry.reason, 'BADH');
    assert.match(entry.detail, /8-bit/);
  } finally {
    await chain.usePolicy({});
  }
});

test('with clamd stopped, mail waits in Postfix and is delivered once clamd is back', async () => {
  await chain.clamd.stop();
  const subject = uniqueSubject('clamd down');
  try {
    const sent = await chain.send(buildMessage({ subject }), { from: sender, to: ['bob@company.local'] });
    assert.deepEqual(sent.accepted, ['bob@company.local'], 'Postfix queues it');
    await waitFor('Postfix to defer the message', () => /status=deferred.*clamd/.test(chain.postfix.log()), 60_000);
    assert.ok((await chain.postfix.queueSize()) >= 1, 'the message is still in Postfix’s queue');
    assert.ok(!chain.sink.messages.some((m) => m.raw.includes(subject)));
  } finally {
    await chain.clamd.start();
  }
  await chain.postfix.flush();
  const message = await arrives(subject);
  assert.equal(headerOf(message.raw, 'X-Virus-Scanned'), 'mailfilter at company.com');
});

test('per-recipient answers: a recipient the final server refuses bounces alone', async () => {
  chain.sink.refuse.set('gone@company.local', 550);
  try {
    const subject = uniqueSubject('per recipient');
    await chain.send(buildMessage({ subject }), { from: sender, to: ['bob@company.local', 'gone@company.local'] });
    const message = await arrives(subject);
    assert.deepEqual(message.to, ['bob@company.local']);
    await waitFor('Postfix to bounce the refused recipient', () => /to=<gone@company\.local>.*status=bounced/.test(chain.postfix.log()), 60_000);
  } finally {
    chain.sink.refuse.clear();
  }
});

test('relaying for a foreign domain from outside is refused; local domains are accepted', async () => {
  const outside = { localAddress: '127.0.0.2' };
  const relay = await chain.send(buildMessage({ to: 'victim@example.org' }), { from: 'spammer@example.net', to: ['victim@example.org'] }, outside);
  assert.equal(relay.accepted.length, 0);
  assert.match(relay.response, /554 5\.7\.1 .*Relay access denied/);
  const subject = uniqueSubject('inbound from outside');
  const inbound = await chain.send(buildMessage({ subject, from: 'someone@example.net' }), { from: 'someone@example.net', to: ['bob@company.local'] }, outside);
  assert.deepEqual(inbound.accepted, ['bob@company.local'], inbound.response);
  await arrives(subject);
});
