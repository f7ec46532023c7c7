// Sender authentication through the whole chain: real Postfix hands the client (XFORWARD) to the
// filter, which checks SPF, DKIM, DMARC and ARC with mailauth against the tests' real DNS server.
// Messages are signed by an independent signer (python3-dkim's dkimsign and arcsign), never by
// mailauth. Clients connect from loopback addresses of their own: 127.0.0.3 is the senders' SPF
// address, 127.0.0.4 is nobody's, 127.0.0.5 is the forwarder's; 127.0.0.1 is mynetworks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { startChain, type Chain, arrivalOf, stopAfterTests, uniqueSubject } from '../support/chain.js';
import type { DnsRecord } from '../support/dns.js';
import { buildMessage } from '../support/messages.js';
import { waitFor } from '../support/net.js';
import { EICAR } from '../support/eicar.js';

const SENDER_IP = '127.0.0.3';
const STRANGER_IP = '127.0.0.4';
const FORWARDER_IP = '127.0.0.5';
const keysDir = mkdtempSync(join(tmpdir(), 'auth-keys-'));
let chain: Chain;

/** An RSA key pair made by openssl: the private key's file and the public key as DKIM's p=. */
function makeKey(name: string): { file: string; publicKey: string } {
  const file = join(keysDir, `${name}.pem`);
  execFileSync('openssl', ['genrsa', '-out', file, '2048'], { stdio: 'ignore' });
  const der = execFileSync('openssl', ['rsa', '-in', file, '-pubout', '-outform', 'DER'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return { file, publicKey: der.toString('base64') };
}

const domainKey = makeKey('domain');
const sealerKey = makeKey('sealer');

const txt = (name: string, data: string): DnsRecord => ({ name, type: 'TXT', data });
const exists = (name: string): DnsRecord => ({ name, type: 'A', data: '192.0.2.1' });
const dkimKey = (selector: string, domain: string, publicKey: string) => txt(`${selector}._domainkey.${domain}`, `v=DKIM1; k=rsa; p=${publicKey}`);
const senderDomain = (domain: string, dmarc?: string): DnsRecord[] => [
  exists(domain),
  txt(domain, `v=spf1 ip4:${SENDER_IP} -all`),
  dkimKey('s1', domain, domainKey.publicKey),
  ...(dmarc ? [txt(`_dmarc.${domain}`, `v=DMARC1; ${dmarc}`)] : []),
];

const RECORDS: DnsRecord[] = [
  ...senderDomain('spf.example'),
  exists('soft.example'),
  txt('soft.example', `v=spf1 ip4:${SENDER_IP} ~all`),
  ...senderDomain('reject.example', 'p=reject'),
  ...senderDomain('quarantine.example', 'p=quarantine'),
  ...senderDomain('none.example', 'p=none'),
  // Another domain whose SPF passes for the sender's address: a pass that does not align.
  ...senderDomain('other.example'),
  exists('sealer.example'),
  txt('sealer.example', `v=spf1 ip4:${FORWARDER_IP} -all`),
  dkimKey('arc', 'sealer.example', sealerKey.publicKey),
  exists('untrusted.example'),
  txt('untrusted.example', `v=spf1 ip4:${FORWARDER_IP} -all`),
  dkimKey('arc', 'untrusted.example', sealerKey.publicKey),
  // Our own domain's SPF: the appliance itself (mynetworks) sends for it.
  txt('company.com', 'v=spf1 ip4:127.0.0.1 -all'),
];

before(
  async () => {
    chain = await startChain({ auth: { trustedArcSealers: ['sealer.example'] } }, { dnsRecords: RECORDS });
  },
  { timeout: 300_000 },
);

stopAfterTests(() => chain?.stop(), keysDir);

/** Signed by python3-dkim's dkimsign, as the sender's own server would. */
function dkimSign(message: string, domain: string, selector = 's1'): string {
  const signed = execFileSync('dkimsign', [selector, domain, domainKey.file], { input: message }).toString('latin1');
  assert.match(signed, /^DKIM-Signature:/, 'dkimsign signed the message');
  return signed;
}

/** What a forwarder (a mailing list) does: checks, notes its results, changes the body, seals with arcsign. */
function forward(message: string, sealer: string): string {
  const noted = `Authentication-Results: lists.${sealer}; spf=pass smtp.mailfrom=reject.example; dkim=pass header.d=reject.example; dmarc=pass header.from=reject.example\r\n${message}`;
  const changed = `${noted.replace(/\r\n$/, '')}\r\n-- \r\nYou are subscribed to the list at ${sealer}.\r\n`;
  const sealed = execFileSync('arcsign', ['arc', sealer, sealerKey.file, `lists.${sealer}`], { input: changed, stdio: ['pipe', 'pipe', 'ignore'] }).toString(
    'latin1',
  );
  assert.match(sealed, /^ARC-Seal:/im, 'arcsign sealed the message');
  return sealed;
}

const arrives = (subject: string) => arrivalOf(chain, subject);
const held = (subject: string) =>
  waitFor(`${subject} in the quarantine`, async () => (await chain.filter.store.list({ limit: 200 })).find((e) => e.subject === subject), 90_000);
/** Our Authentication-Results header, unfolded. */
const ourResults = (raw: string) => {
  const match = /^Authentication-Results: mx\.company\.com;((?:\r?\n[ \t].*)*)/m.exec(raw);
  assert.ok(match, `our Authentication-Results header is there:\n${raw.slice(0, 1500)}`);
  return match[1]!.replace(/\r?\n[ \t]+/g, ' ');
};

async function send(options: { from: string; mailFrom?: string; ip: string; subject: string; sign?: (m: string) => string }): Promise<string> {
  const message = buildMessage({ from: options.from, subject: options.subject, to: 'Bob <bob@company.com>' });
  const raw = options.sign ? options.sign(message) : message;
  const sent = await chain.send(raw, { from: options.mailFrom ?? options.from.replace(/^.*<|>$/g, ''), to: ['bob@company.com'] }, { localAddress: options.ip });
  assert.deepEqual(sent.accepted, ['bob@company.com'], sent.response);
  return options.subject;
}

test('SPF pass, fail and softfail for the client Postfix saw, in our Authentication-Results on delivered mail', { timeout: 180_000 }, async () => {
  const pass = await send({ from: 'a@spf.example', ip: SENDER_IP, subject: uniqueSubject('spf pass') });
  const fail = await send({ from: 'a@spf.example', ip: STRANGER_IP, subject: uniqueSubject('spf fail') });
  const soft = await send({ from: 'a@soft.example', ip: STRANGER_IP, subject: uniqueSubject('spf softfail') });
  assert.match(ourResults((await arrives(pass)).raw), /spf=pass .*smtp\.mailfrom=\S*spf\.example/);
  assert.match(ourResults((await arrives(fail)).raw), /spf=fail .*smtp\.mailfrom=\S*spf\.example/);
  assert.match(ourResults((await arrives(soft)).raw), /spf=softfail .*smtp\.mailfrom=\S*soft\.example/);
  assert.match(
    ourResults((await arrives(pass)).raw),
    /client-ip=127\.0\.0\.3|127\.0\.0\.3/,
    "the client is the one Postfix saw (XFORWARD), not the filter's peer",
  );
});

test('DKIM: a good signature passes, an altered body fails, a missing key is not a pass', { timeout: 180_000 }, async () => {
  const good = await send({ from: 'a@spf.example', ip: SENDER_IP, subject: uniqueSubject('dkim good'), sign: (m) => dkimSign(m, 'spf.example') });
  const altered = await send({
    from: 'a@spf.example',
    ip: SENDER_IP,
    subject: uniqueSubject('dkim altered'),
    sign: (m) => dkimSign(m, 'spf.example').replace('the numbers below', 'the new bank account below'),
  });
  const missing = await send({ from: 'a@spf.example', ip: SENDER_IP, subject: uniqueSubject('dkim no key'), sign: (m) => dkimSign(m, 'spf.example', 'gone') });
  assert.match(ourResults((await arrives(good)).raw), /dkim=pass header\.i=@spf\.example/);
  assert.match(ourResults((await arrives(altered)).raw), /dkim=(fail|neutral) \(body hash did not verify\)|dkim=fail/);
  const noKey = ourResults((await arrives(missing)).raw);
  assert.match(noKey, /dkim=(neutral|fail|permerror|temperror)/);
  assert.doesNotMatch(noKey, /dkim=pass/);
});

test('DMARC p=reject without alignment is SPOOFED and held (D_DISCARD); with SPF or DKIM aligned it is delivered', { timeout: 180_000 }, async () => {
  const unaligned = await send({ from: 'boss@reject.example', ip: STRANGER_IP, subject: uniqueSubject('dmarc reject stranger') });
  const spfNotAligned = await send({
    from: 'boss@reject.example',
    mailFrom: 'bounces@other.example',
    ip: SENDER_IP,
    subject: uniqueSubject('dmarc reject other spf'),
  });
  const spfAligned = await send({ from: 'boss@reject.example', ip: SENDER_IP, subject: uniqueSubject('dmarc reject spf aligned') });
  const dkimAligned = await send({
    from: 'boss@reject.example',
    mailFrom: 'bounces@other.example',
    ip: STRANGER_IP,
    subject: uniqueSubject('dmarc reject dkim aligned'),
    sign: (m) => dkimSign(m, 'reject.example'),
  });
  for (const subject of [unaligned, spfNotAligned]) {
    const entry = await held(subject);
    assert.equal(entry.reason, 'SPOOFED');
    assert.match(entry.detail, /DMARC fail for reject\.example \(p=reject\)/);
  }
  assert.match(ourResults((await arrives(spfAligned)).raw), /dmarc=pass/);
  assert.match(ourResults((await arrives(dkimAligned)).raw), /dmarc=pass/);
  assert.ok(!chain.sink.messages.some((m) => m.raw.includes(unaligned)), 'the forgery was not delivered');
  // The held copy carries our results: the viewer shows them.
  const entry = await held(unaligned);
  assert.match(readFileSync(chain.filter.store.filePath(entry), 'latin1'), /^Authentication-Results: mx\.company\.com;[^]*dmarc=fail/);
});

test('DMARC p=quarantine without alignment counts as SPAM, delivered tagged with the reason; p=none is delivered as it was', { timeout: 180_000 }, async () => {
  const quarantine = await send({ from: 'a@quarantine.example', ip: STRANGER_IP, subject: uniqueSubject('dmarc quarantine') });
  const none = await send({ from: 'a@none.example', ip: STRANGER_IP, subject: uniqueSubject('dmarc none') });
  const aligned = await send({ from: 'a@quarantine.example', ip: SENDER_IP, subject: uniqueSubject('dmarc quarantine aligned') });
  const suspect = await arrives(quarantine);
  assert.match(suspect.raw, /^Subject: \*\*\*SPAM\*\*\* dmarc quarantine/m);
  assert.match(ourResults(suspect.raw), /dmarc=fail/);
  const relaxed = await arrives(none);
  assert.match(ourResults(relaxed.raw), /dmarc=fail/);
  assert.doesNotMatch(relaxed.raw, /^Subject: \*\*\*SPAM/m);
  assert.doesNotMatch((await arrives(aligned)).raw, /^Subject: \*\*\*SPAM/m);
});

test('forwarded mail sealed by a trusted ARC sealer overrides the DMARC fail; the same sealed by another is SPOOFED', { timeout: 180_000 }, async () => {
  const viaTrusted = uniqueSubject('arc trusted');
  const viaOther = uniqueSubject('arc untrusted');
  for (const [subject, sealer] of [
    [viaTrusted, 'sealer.example'],
    [viaOther, 'untrusted.example'],
  ] as const) {
    await send({
      from: 'boss@reject.example',
      mailFrom: `list-bounces@${sealer}`,
      ip: FORWARDER_IP,
      subject,
      sign: (m) => forward(dkimSign(m, 'reject.example'), sealer),
    });
  }
  const forwarded = ourResults((await arrives(viaTrusted)).raw);
  assert.match(forwarded, /arc=pass/);
  assert.match(forwarded, /dmarc=fail/, 'DMARC itself failed: the list changed the body');
  const entry = await held(viaOther);
  assert.equal(entry.reason, 'SPOOFED');
});

test('our own domain in From: from outside without SPF or DKIM is SPOOFED; from mynetworks it is delivered', { timeout: 180_000 }, async () => {
  const outside = await send({ from: 'CEO <ceo@company.com>', ip: STRANGER_IP, subject: uniqueSubject('ceo fraud') });
  const inside = await send({ from: 'CEO <ceo@company.com>', ip: '127.0.0.1', subject: uniqueSubject('ceo inside') });
  const entry = await held(outside);
  assert.equal(entry.reason, 'SPOOFED');
  assert.match(entry.detail, /From: company\.com is our own domain, sent from 127\.0\.0\.4 outside the allowed networks/);
  await arrives(inside);
});

test('an incoming Authentication-Results claiming our name is removed; others are kept', { timeout: 120_000 }, async () => {
  const subject = uniqueSubject('forged results');
  const forged = (m: string) =>
    `Authentication-Results: mx.company.com; dkim=pass header.d=bank.example\r\nAuthentication-Results: elsewhere.example; spf=pass\r\n${m}`;
  await send({ from: 'a@spf.example', ip: SENDER_IP, subject, sign: forged });
  const raw = (await arrives(subject)).raw;
  assert.equal(raw.match(/^Authentication-Results: mx\.company\.com;/gm)?.length, 1);
  assert.doesNotMatch(raw, /header\.d=bank\.example/);
  assert.match(raw, /^Authentication-Results: elsewhere\.example; spf=pass/m);
});

test('a virus notice (D_BOUNCE) goes to a sender whose SPF passed, and none to one that is not authenticated', { timeout: 180_000 }, async () => {
  const virus = (subject: string) =>
    buildMessage({ subject, from: 'alice@company.com', attachments: [{ filename: 'eicar.com.txt', contentType: 'text/plain', content: EICAR }] });
  const authenticated = uniqueSubject('virus from an authenticated sender');
  const sent = await chain.send(virus(authenticated), { from: 'alice@company.com', to: ['bob@company.com'] });
  assert.deepEqual(sent.accepted, ['bob@company.com'], sent.response);
  const entry = await held(authenticated);
  assert.equal(entry.reason, 'VIRUS');
  const dsn = await chain.sink.waitFor((m) => m.from === '' && m.raw.includes(entry.id), 90_000);
  assert.deepEqual(dsn.to, ['alice@company.com']);
  const unknown = uniqueSubject('virus from an unknown sender');
  const other = await chain.send(virus(unknown), { from: 'alice@company.local', to: ['bob@company.com'] });
  assert.deepEqual(other.accepted, ['bob@company.com'], other.response);
  const unknownEntry = await held(unknown);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.ok(!chain.sink.messages.some((m) => m.from === '' && m.raw.includes(unknownEntry.id)), 'no notice to a sender nobody vouched for');
});
