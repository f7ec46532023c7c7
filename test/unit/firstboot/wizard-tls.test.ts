// The wizard's TLS questions: the certificate and key offered with STARTTLS on port 25 (blank: the
// self-signed one apply makes), checked as they are typed, and TLS to the final server, opportunistic
// or verified with a CA file. Certificates are made by openssl in a temporary folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wizard } from '../../../firstboot/wizard.js';
import { answersToConfig, defaultAnswers } from '../../../firstboot/answers.js';
import { answerProblems } from '../../../firstboot/configure.js';
import { caFile, certificateFile, keyFile } from '../../../firstboot/certificate-files.js';
import { defaultConfig } from '../../../runtime/config/load.js';
import { schema } from '../../../runtime/config/schema.js';
import { makeSelfSigned } from '../../../runtime/tls/certificate.js';

let dir: string;
const file = (name: string) => join(dir, name);

/** A self-signed certificate and its key, valid for `days`. */
function makePair(name: string, days = 30, keyArgs: string[] = ['-nodes']): void {
  makeSelfSigned({ cert: file(`${name}.crt`), key: file(`${name}.key`) }, name, days, { keyArgs });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wizard-tls-'));
  makePair('mx.company.com');
  makePair('other.company.com');
  makePair('locked.company.com', 30, ['-passout', 'pass:secret']);
  writeFileSync(file('notes.txt'), 'not a certificate\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

// Through the allowed networks and the DKIM question.
const network = ['mx.company.com', 'yes', 'smtp', 'company.com', '', '192.168.100.20', '', '', ''];
const spamSection = ['', '', '', '', '', '', '', '', '', '', '', ''];

function answer(wizard: Wizard, replies: string[]): void {
  for (const reply of replies) {
    const error = wizard.submit(reply);
    assert.equal(error, null, `"${reply}" at "${wizard.screen().prompt}": ${error}`);
  }
}

/** Answers up to the certificate question. */
function atCertificate(): Wizard {
  const wizard = new Wizard(
    defaultAnswers(),
    () => null,
    (a) => (a.tlsCert ? `the admin's ${a.tlsCert}` : 'none yet'),
  );
  answer(wizard, [...network, ...spamSection]);
  assert.match(wizard.screen().prompt, /Certificate file \(PEM\) offered with STARTTLS on port 25/);
  return wizard;
}

test('the certificate file: blank, or a current PEM certificate at a full path', () => {
  assert.equal(certificateFile(''), null);
  assert.equal(certificateFile('none'), null);
  assert.equal(certificateFile(file('mx.company.com.crt')), null);
  assert.match(certificateFile('mx.crt') ?? '', /full path, starting with \//);
  assert.match(certificateFile(file('missing.crt')) ?? '', /^There is no file .*missing\.crt\.$/);
  assert.match(certificateFile(dir) ?? '', /is a folder/);
  assert.match(certificateFile(file('notes.txt')) ?? '', /holds no PEM certificate/);
  const inAYear = new Date(Date.now() + 365 * 86_400_000);
  assert.match(certificateFile(file('mx.company.com.crt'), inAYear) ?? '', /^The certificate in .* expired on \d{4}-\d\d-\d\d: enter a current one\.$/);
  const lastYear = new Date(Date.now() - 365 * 86_400_000);
  assert.match(certificateFile(file('mx.company.com.crt'), lastYear) ?? '', /is valid only from \d{4}-\d\d-\d\d: check the clock/);
});

test('the key file must be unencrypted and belong to the certificate', () => {
  const cert = file('mx.company.com.crt');
  assert.equal(keyFile(file('mx.company.com.key'), cert), null);
  assert.match(keyFile('', cert) ?? '', /Enter the private key file/);
  assert.match(keyFile(file('other.company.com.key'), cert) ?? '', /does not belong to the certificate in .*mx\.company\.com\.crt/);
  assert.match(keyFile(file('locked.company.com.key'), cert) ?? '', /protected by a passphrase: Postfix needs it without one/);
  assert.match(keyFile(file('notes.txt'), cert) ?? '', /holds no PEM private key/);
  assert.match(keyFile(file('missing.key'), cert) ?? '', /There is no file/);
});

test('the CA file: blank for the public CAs, or a PEM certificate', () => {
  assert.equal(caFile(''), null);
  assert.equal(caFile('public'), null);
  assert.equal(caFile(file('other.company.com.crt')), null);
  assert.match(caFile(file('notes.txt')) ?? '', /holds no PEM certificate/);
  assert.match(caFile(file('missing.crt')) ?? '', /There is no file/);
});

test('no certificate of the admin’s: no key question, and the outbound TLS default is the schema’s', () => {
  const wizard = atCertificate();
  assert.equal(wizard.screen().defaultShown, 'none');
  answer(wizard, ['']);
  assert.match(wizard.screen().prompt, /TLS to the final mail server: 'may' or 'verify'/);
  assert.equal(wizard.screen().defaultShown, schema.postfix.outboundTls.default);
  answer(wizard, ['']);
  assert.match(wizard.screen().prompt, /Enable web interface/, 'no CA question with may');
  assert.equal(wizard.answers.tlsKey, '');
  assert.equal(wizard.answers.outboundTls, 'may');
});

test('a certificate of the admin’s: the wrong key is refused with the reason, the right one taken; verify asks for the CA', () => {
  const wizard = atCertificate();
  assert.match(wizard.submit(file('missing.crt')) ?? '', /There is no file/);
  answer(wizard, [file('mx.company.com.crt')]);
  assert.match(wizard.screen().prompt, /Private key file \(PEM, no passphrase\) of that certificate/);
  assert.match(wizard.submit(file('other.company.com.key')) ?? '', /does not belong to the certificate/);
  answer(wizard, [file('mx.company.com.key')]);
  assert.match(wizard.submit('always') ?? '', /Answer one of: may, verify\./);
  answer(wizard, ['verify']);
  assert.match(wizard.screen().prompt, /CA certificate file \(PEM\) that signed the final mail server's certificate/);
  assert.match(wizard.submit(file('notes.txt')) ?? '', /holds no PEM certificate/);
  answer(wizard, [file('other.company.com.crt'), '', 'no', 'yes', '']);
  const review = wizard.screen().review.join('\n');
  assert.match(review, /TLS certificate: the admin's .*mx\.company\.com\.crt/);
  assert.match(review, /TLS to the final server: verify \(CA: .*other\.company\.com\.crt\)/);
  const config = answersToConfig(wizard.answers, defaultConfig());
  assert.deepEqual(
    { ...config.postfix, configDir: undefined, smtpPort: undefined, reinjectHost: undefined, reinjectPort: undefined },
    {
      ...defaultConfig().postfix,
      configDir: undefined,
      smtpPort: undefined,
      reinjectHost: undefined,
      reinjectPort: undefined,
      tlsCert: file('mx.company.com.crt'),
      tlsKey: file('mx.company.com.key'),
      outboundTls: 'verify',
      outboundCaFile: file('other.company.com.crt'),
    },
  );
});

test('going back to no certificate drops the key; back to may drops the CA; public CAs are stored blank', () => {
  const wizard = atCertificate();
  answer(wizard, [file('mx.company.com.crt'), file('mx.company.com.key'), 'verify', 'public']);
  assert.equal(wizard.answers.outboundCaFile, '');
  wizard.back();
  answer(wizard, [file('other.company.com.crt')]);
  for (let i = 0; i < 4; i++) wizard.back();
  assert.match(wizard.screen().prompt, /Certificate file/);
  assert.equal(wizard.screen().defaultShown, file('mx.company.com.crt'));
  answer(wizard, ['none', 'may']);
  assert.deepEqual([wizard.answers.tlsCert, wizard.answers.tlsKey, wizard.answers.outboundTls, wizard.answers.outboundCaFile], ['', '', 'may', '']);
});

test('an answers file with a certificate but a key that does not match is refused, naming both', () => {
  const answers = {
    ...defaultAnswers(),
    hostname: 'mx.company.com',
    mode: 'smtp' as const,
    dhcp: true,
    externalDomain: 'company.com',
    internalDomain: 'company.com',
    finalServer: '192.168.100.20',
    relayDomains: ['company.com'],
    exchange: false,
    tlsCert: file('mx.company.com.crt'),
    tlsKey: file('other.company.com.key'),
  };
  const problems = answerProblems(answers, defaultConfig());
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, /^tlsKey: The key in .*other\.company\.com\.key does not belong to the certificate in .*mx\.company\.com\.crt\.$/);
});
