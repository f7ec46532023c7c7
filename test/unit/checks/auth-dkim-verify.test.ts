// Our DKIM verifier against signatures made by an independent signer (python3-dkim): RSA and
// Ed25519, each canonicalisation, a body or header changed after signing, a missing or unusable
// key, several signatures, l=, chunk boundaries anywhere; and gatherAuth's own path against
// mailauth's whole check on the same messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BodyHasher, keyParser, parseKeyRecord, verifyDkim } from '../../../runtime/checks/auth-dkim-verify.js';
import { dkimTxtRecord } from '../../../runtime/checks/auth-dkim-key.js';
import { gatherAuth, authMemory, type DnsResolve } from '../../../runtime/checks/auth.js';
import { headOf } from '../../../runtime/mail/message-head.js';
import { pythonDkimSign } from '../../support/dkim-verify.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const ed = generateKeyPairSync('ed25519').privateKey;
const edPem = ed.export({ type: 'pkcs8', format: 'pem' }).toString();
/** python3-dkim takes an Ed25519 key as the base64 of its 32-byte seed: the end of the PKCS#8 form. */
const edSeed = ed.export({ type: 'pkcs8', format: 'der' }).subarray(-32).toString('base64');
const weak = generateKeyPairSync('rsa', { modulusLength: 768 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

const MESSAGE =
  'From: Alice <alice@sender.example>\r\n' +
  'To: bob@company.com\r\n' +
  'Subject: quarterly  figures,\r\n\t folded \r\n' +
  'Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n' +
  'Message-ID: <t@sender.example>\r\n' +
  '\r\n' +
  'Dear Bob,  \r\n' +
  '\r\n' +
  'the numbers\t are\tbelow.   \r\n' +
  '  indented line\r\n' +
  '\r\n' +
  '\r\n';

function zone(records: Record<string, string | Error>): DnsResolve {
  return async (name, type) => {
    const found = records[`${type} ${name}`];
    if (found instanceof Error) throw found;
    if (found === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return [[found]];
  };
}

const keys = zone({
  'TXT s1._domainkey.sender.example': dkimTxtRecord(createPrivateKey(rsa).export({ type: 'pkcs8', format: 'pem' }).toString()),
  'TXT ed._domainkey.sender.example': dkimTxtRecord(edPem),
  'TXT weak._domainkey.sender.example': dkimTxtRecord(createPrivateKey(weak).export({ type: 'pkcs8', format: 'pem' }).toString()),
  'TXT gone._domainkey.sender.example': 'v=DKIM1; k=rsa; p=',
  'TXT broken._domainkey.sender.example': Object.assign(new Error('queryTxt ESERVFAIL'), { code: 'ESERVFAIL' }),
});

const sign = (message: string, options: Partial<Parameters<typeof pythonDkimSign>[1]> = {}) =>
  pythonDkimSign(message, { selector: 's1', domain: 'sender.example', privateKey: rsa, ...options }) + message;

async function verify(message: string | Buffer, chunks?: number[], resolve: DnsResolve = keys) {
  const bytes = Buffer.isBuffer(message) ? message : Buffer.from(message, 'latin1');
  const head = headOf(bytes);
  const body = bytes.subarray(head.bodyOffset);
  // Cut the body where the test says (to cross CR, LF and white space), else one chunk.
  const pieces: Buffer[] = [];
  let at = 0;
  for (const size of chunks ?? []) {
    pieces.push(body.subarray(at, at + size));
    at += size;
  }
  pieces.push(body.subarray(at));
  return verifyDkim(head.fields, pieces, { resolve, keys: keyParser() });
}

for (const [header, body] of [
  ['relaxed', 'simple'],
  ['relaxed', 'relaxed'],
  ['simple', 'simple'],
  ['simple', 'relaxed'],
] as const) {
  test(`RSA ${header}/${body}: python3-dkim's signature passes, also fed a byte at a time`, async () => {
    const signed = sign(MESSAGE, { canonicalize: [header, body] });
    const whole = await verify(signed);
    assert.equal(whole.outcomes.length, 1);
    assert.equal(whole.outcomes[0]!.result, 'pass', whole.rows[0]);
    assert.match(whole.rows[0]!, /^dkim=pass header\.i=@sender\.example header\.s=s1 header\.a=rsa-sha256 header\.b=("[^"]{8}"|[^\s"]{8})$/);
    const bodyLength = Buffer.from(signed, 'latin1').length - headOf(Buffer.from(signed, 'latin1')).bodyOffset;
    assert.equal(
      (
        await verify(
          signed,
          Array.from({ length: bodyLength }, () => 1),
        )
      ).outcomes[0]!.result,
      'pass',
    );
  });
}

test('Ed25519 (RFC 8463): python3-dkim signature passes', async () => {
  const signed = sign(MESSAGE, { selector: 'ed', privateKey: edSeed, algorithm: 'ed25519-sha256', canonicalize: ['relaxed', 'relaxed'] });
  const { outcomes, rows } = await verify(signed);
  assert.equal(outcomes[0]!.result, 'pass', rows[0]);
  assert.equal(outcomes[0]!.algorithm, 'ed25519-sha256');
});

test('a body changed after signing: body hash did not verify (neutral, as mailauth says)', async () => {
  for (const canon of [
    ['relaxed', 'simple'],
    ['relaxed', 'relaxed'],
  ] as const) {
    const signed = sign(MESSAGE, { canonicalize: canon }).replace('the numbers', 'the new bank account');
    const { outcomes, rows } = await verify(signed);
    assert.equal(outcomes[0]!.result, 'neutral');
    assert.match(rows[0]!, /^dkim=neutral \(body hash did not verify\) header\.i=@sender\.example/);
  }
  // Relaxed body: white space changes do not matter, trailing empty lines neither; simple: they do.
  const relaxed = sign(MESSAGE, { canonicalize: ['relaxed', 'relaxed'] });
  assert.equal((await verify(relaxed.replace('Dear Bob,  ', 'Dear \t Bob,') + '\r\n\r\n')).outcomes[0]!.result, 'pass');
  const simple = sign(MESSAGE, { canonicalize: ['relaxed', 'simple'] });
  assert.equal((await verify(simple.replace('Dear Bob,  ', 'Dear Bob, ') + '\r\n\r\n')).outcomes[0]!.result, 'neutral');
  assert.equal((await verify(simple + '\r\n\r\n')).outcomes[0]!.result, 'pass');
});

test('a signed header changed after signing: bad signature (fail); relaxed ignores folding and case', async () => {
  const signed = sign(MESSAGE);
  const { outcomes, rows } = await verify(signed.replace('Subject: quarterly', 'Subject: Quarterly'));
  assert.equal(outcomes[0]!.result, 'fail');
  assert.match(rows[0]!, /^dkim=fail \(bad signature\)/);
  assert.equal((await verify(signed.replace('Subject: quarterly  figures,\r\n\t folded', 'SUBJECT:quarterly figures, folded'))).outcomes[0]!.result, 'pass');
  // python3-dkim names From: once more in h= than there are (over-signing): a From: added above is
  // then covered (h= takes fields from the bottom up) and breaks the signature.
  assert.match(signed, /h=[^;]*from[^;]*from/i);
  assert.equal((await verify(signed.replace('From: Alice', 'From: Mallory <m@evil.example>\r\nFrom: Alice'))).outcomes[0]!.result, 'fail');
  const simple = sign(MESSAGE, { canonicalize: ['simple', 'simple'] });
  assert.equal((await verify(simple.replace('Subject: quarterly  figures,', 'Subject: quarterly figures,'))).outcomes[0]!.result, 'fail');
});

test('key missing, revoked, weak, or DNS failing: no pass, with the reason', async () => {
  const result = async (selector: string) => (await verify(sign(MESSAGE, { selector }))).rows[0]!;
  assert.match(await result('nokey'), /^dkim=neutral \(no key\)/);
  assert.match(await result('gone'), /^dkim=neutral \(key revoked\)/);
  assert.match(
    (await verify(pythonDkimSign(MESSAGE, { selector: 'weak', domain: 'sender.example', privateKey: weak }) + MESSAGE)).rows[0]!,
    /^dkim=policy policy\.dkim-rules=weak-key/,
  );
  assert.match(await result('broken'), /^dkim=temperror \(DNS failure: ESERVFAIL\)/);
  // Ed25519 signature, RSA key record: not a pass.
  const swapped = pythonDkimSign(MESSAGE, { selector: 's1', domain: 'sender.example', privateKey: edSeed, algorithm: 'ed25519-sha256' }) + MESSAGE;
  assert.notEqual((await verify(swapped)).outcomes[0]!.result, 'pass');
  // rsa-sha1 is refused (RFC 8301).
  assert.match((await verify(sign(MESSAGE, { algorithm: 'rsa-sha1' }))).rows[0]!, /^dkim=policy policy\.dkim-rules=weak-algorithm/);
});

test('several signatures: each has its own result, in header order', async () => {
  const first = sign(MESSAGE, { selector: 'ed', privateKey: edSeed, algorithm: 'ed25519-sha256' });
  const both = pythonDkimSign(first, { selector: 'nokey', domain: 'sender.example', privateKey: rsa }) + first;
  const { outcomes } = await verify(both);
  assert.deepEqual(
    outcomes.map((o) => [o.selector, o.result]),
    [
      ['nokey', 'neutral'],
      ['ed', 'pass'],
    ],
  );
});

test('l=: a pass when it covers the body; content added after the signed length is not a pass', async () => {
  const signed = sign(MESSAGE, { length: true, canonicalize: ['relaxed', 'relaxed'] });
  assert.match(signed, /l=\d+/);
  assert.equal((await verify(signed)).outcomes[0]!.result, 'pass');
  const appended = await verify(signed.replace(/\r\n$/, '\r\nPlease pay the invoice to the new account.\r\n'));
  assert.equal(appended.outcomes[0]!.result, 'policy');
  assert.match(appended.rows[0]!, /unsigned/);
});

test('unsigned, or a malformed signature: none, permerror', async () => {
  assert.deepEqual(await verify(MESSAGE), { outcomes: [], rows: ['dkim=none (message not signed)'] });
  const noFrom = await verify(`DKIM-Signature: v=1; a=rsa-sha256; d=sender.example; s=s1; h=to:subject; bh=x; b=y\r\n${MESSAGE}`);
  assert.equal(noFrom.outcomes[0]!.result, 'permerror');
  assert.match(noFrom.rows[0]!, /From: not signed/);
  const twice = await verify(`DKIM-Signature: v=1; a=rsa-sha256; d=sender.example; d=evil.example; s=s1; h=from; bh=x; b=y\r\n${MESSAGE}`);
  assert.equal(twice.outcomes[0]!.result, 'permerror');
  const otherI = sign(MESSAGE, { identity: '@sender.example' }).replace('i=@sender.example', 'i=@evil.example');
  assert.equal((await verify(otherI)).outcomes[0]!.result, 'permerror');
});

test('a message stored with bare LF line ends verifies as sent (CRLF)', async () => {
  const signed = sign(MESSAGE, { canonicalize: ['simple', 'simple'] });
  assert.equal((await verify(signed.replace(/\r\n/g, '\n'))).outcomes[0]!.result, 'pass');
});

test('body canonicalisation: empty bodies, and what counts as the end', () => {
  const hash = (relaxed: boolean, ...chunks: string[]) => {
    const h = new BodyHasher(relaxed, null);
    for (const c of chunks) h.update(Buffer.from(c, 'latin1'));
    return h.digest();
  };
  // RFC 6376 3.4.3 and 3.4.4 (errata 3192): an empty body is CRLF in simple, nothing in relaxed.
  assert.equal(hash(false), 'frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=');
  assert.equal(hash(true), '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  assert.equal(hash(false, '\r\n\r\n'), hash(false));
  assert.equal(hash(true, ' \t\r\n \r\n'), hash(true));
  assert.equal(hash(true, 'a  b \t\r\n'), hash(true, 'a b'));
  assert.equal(hash(false, 'a\r', '\nb'), hash(false, 'a\r\nb\r\n'));
});

test('key records: parsed once by their text; the tags RFC 6376 gives them are obeyed', () => {
  const parse = keyParser();
  const text = dkimTxtRecord(edPem);
  assert.equal(parse(text), parse(text));
  assert.equal((parseKeyRecord(text) as { type: string }).type, 'ed25519');
  const p = text.slice(text.indexOf('p='));
  assert.deepEqual(parseKeyRecord(`v=DKIM2; k=ed25519; ${p}`), { problem: 'unknown key version', result: 'neutral' });
  assert.deepEqual(parseKeyRecord(`k=ed25519; h=sha1; ${p}`), { problem: 'key does not allow sha256', result: 'neutral' });
  assert.deepEqual(parseKeyRecord(`k=ed25519; s=other; ${p}`), { problem: 'key not for email', result: 'neutral' });
  assert.deepEqual(parseKeyRecord(`k=rsa; ${p}`), { problem: 'invalid public key', result: 'neutral' });
  assert.equal((parseKeyRecord(`k=ed25519; t=y:s; ${p}`) as { strictDomain: boolean }).strictDomain, true);
});

test("gatherAuth: our DKIM path and mailauth's whole check give the same facts", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'auth-dkim-verify-'));
  try {
    const resolve: DnsResolve = async (name, type) => {
      const records: Record<string, string> = {
        'TXT sender.example': 'v=spf1 ip4:198.51.100.0/24 -all',
        'TXT _dmarc.sender.example': 'v=DMARC1; p=reject',
      };
      if (records[`${type} ${name}`]) return [[records[`${type} ${name}`]!]];
      return keys(name, type);
    };
    const envelope = { clientAddress: '198.51.100.10', heloName: 'mail.sender.example', mailFrom: 'alice@sender.example' };
    const messages = {
      good: sign(MESSAGE),
      ed25519: sign(MESSAGE, { selector: 'ed', privateKey: edSeed, algorithm: 'ed25519-sha256' }),
      altered: sign(MESSAGE).replace('the numbers', 'the new account'),
      headerChanged: sign(MESSAGE).replace('Subject: quarterly', 'Subject: Quarterly'),
      noKey: sign(MESSAGE, { selector: 'nokey' }),
      unsigned: MESSAGE,
      twoFroms: sign(MESSAGE).replace('To: bob', 'From: eve@evil.example\r\nTo: bob'),
    };
    for (const [name, message] of Object.entries(messages)) {
      const path = join(dir, `${name}.eml`);
      const bytes = Buffer.from(message, 'latin1');
      writeFileSync(path, bytes);
      const options = { authservId: 'mx.company.com', resolve };
      const ours = await gatherAuth({ spoolPath: path, head: headOf(bytes), bytes }, envelope, { ...options, memory: authMemory(options.authservId, resolve) });
      const fromFile = await gatherAuth({ spoolPath: path, head: headOf(bytes), bytes: null }, envelope, options);
      const theirs = await gatherAuth({ spoolPath: path }, envelope, options);
      assert.deepEqual(ours, theirs, name);
      assert.deepEqual(fromFile, theirs, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
