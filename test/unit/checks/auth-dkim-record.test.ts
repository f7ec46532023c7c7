// The DKIM record the admin publishes: split into 255-character strings for a zone file (RSA-2048
// needs two), one string for Ed25519, and a console form of short strings that fits 78 columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeDkimKey } from '../../../runtime/checks/auth-dkim-key.js';
import { dkimConsoleLines, dkimRecord, txtStrings, zoneLine, zoneLinesForConsole } from '../../../runtime/checks/auth-dkim-record.js';

/** The strings of a zone-file TXT entry, in order, from its quoted parts. */
const quoted = (text: string) => [...text.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);

test('an RSA-2048 record is split into strings of 255 characters that join to the whole value', () => {
  const record = dkimRecord('mailfilter', 'company.com', makeDkimKey('rsa'));
  assert.equal(record.name, 'mailfilter._domainkey.company.com');
  assert.equal(record.type, 'rsa');
  assert.match(record.value, /^v=DKIM1; k=rsa; p=MIIB[A-Za-z0-9+/]+=*$/);
  const strings = txtStrings(record.value);
  assert.equal(strings.length, 2, 'an RSA-2048 key is longer than one string');
  assert.equal(strings[0]!.length, 255);
  assert.ok(strings[1]!.length > 0 && strings[1]!.length <= 255);
  const line = zoneLine(record);
  assert.match(line, /^mailfilter\._domainkey\.company\.com\. IN TXT "v=DKIM1; k=rsa; p=[^"]{237}" "[^"]+"$/);
  assert.deepEqual(quoted(line), strings);
  assert.equal(quoted(line).join(''), record.value);
});

test('an Ed25519 record is one short string: k=ed25519 and the bare 32-byte key', () => {
  const record = dkimRecord('s2026', 'company.com', makeDkimKey('ed25519'));
  assert.equal(record.type, 'ed25519');
  assert.match(record.value, /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
  assert.deepEqual(txtStrings(record.value), [record.value]);
  assert.equal(zoneLine(record), `s2026._domainkey.company.com. IN TXT "${record.value}"`);
});

test('the console form fits 78 columns, one string a line, and joins to the same value', () => {
  for (const type of ['rsa', 'ed25519'] as const) {
    const record = dkimRecord('mailfilter', 'company.com', makeDkimKey(type));
    const lines = zoneLinesForConsole(record);
    assert.equal(lines[0], 'mailfilter._domainkey.company.com. IN TXT (');
    assert.match(lines.at(-1)!, /" \)$/);
    for (const line of lines) assert.ok(line.length <= 78, `too long: ${line}`);
    assert.equal(quoted(lines.join('\n')).join(''), record.value);
    const shown = dkimConsoleLines({ state: 'ready', keyFile: '/etc/mailfilter/dkim/mailfilter.rsa.pem', record }, 'never');
    assert.match(shown.join('\n'), /Publish this TXT record in your DNS/);
  }
  assert.deepEqual(dkimConsoleLines({ state: 'off' }, 'never'), ['DKIM signing: off']);
  assert.match(
    dkimConsoleLines({ state: 'missing', keyFile: '/k.pem', name: 'mailfilter._domainkey.company.com', type: 'rsa' }, 'apply makes it')[0]!,
    /no key yet: apply makes it/,
  );
});
