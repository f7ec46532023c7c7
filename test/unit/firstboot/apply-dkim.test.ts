// The wizard's DKIM key: apply makes it once per selector and type (0600), never replaces it, and
// shows the TXT record to publish; the review says apply will make it, then shows its record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answersDkim, type Answers } from '../../../firstboot/answers.js';
import { reviewLines } from '../../../firstboot/questions.js';
import { applyInto, dkimSigningAnswers } from '../../support/wizard-replies.js';
import { defaultConfig } from '../../../runtime/config/load.js';
import { dkimTxtRecord } from '../../../runtime/checks/auth-dkim-key.js';
import { dkimPublication } from '../../../runtime/checks/auth-dkim-record.js';

const answers = (more: Partial<Answers>): Answers => dkimSigningAnswers(more);

async function apply(root: string, given: Answers): Promise<string> {
  const lines = await applyInto(root, given);
  for (const line of lines) assert.ok(line.length <= 78, `too long: ${line}`);
  return lines.join('\n');
}

test('apply makes the DKIM key once (0600), keeps it on the next run, and makes another for a new selector or type', { timeout: 60_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'apply-dkim-'));
  try {
    const rsa = answers({ dkimSelector: 'mailfilter', dkimAlgorithm: 'rsa' });
    const review = (a: Answers) => reviewLines(a, undefined, dkimPublication(answersDkim(a, defaultConfig()), root)).join('\n');
    assert.match(review(rsa), /DKIM-sign outgoing mail: yes, selector mailfilter, RSA-2048/);
    assert.match(
      review(rsa),
      /DKIM key: apply makes \/etc\/mailfilter\/dkim\/mailfilter\.rsa\.pem; the TXT record to publish at mailfilter\._domainkey\.company\.com is shown at its end/,
    );

    const first = await apply(root, rsa);
    const keyFile = join(root, 'etc/mailfilter/dkim/mailfilter.rsa.pem');
    assert.match(first, /Preparing the DKIM signing key \.\.\. done \(made\s+\/etc\/mailfilter\/dkim\/mailfilter\.rsa\.pem\)/);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(root, 'etc/mailfilter/dkim')).mode & 0o777, 0o700);
    const key = readFileSync(keyFile, 'utf8');
    const value = dkimTxtRecord(key);
    // At the end of apply: the record, in strings that join to the value.
    assert.match(first, /Publish this TXT record in your DNS[^]*mailfilter\._domainkey\.company\.com\. IN TXT \(\n {2}"v=DKIM1; k=rsa; p=/);
    const shown = first.slice(first.indexOf('IN TXT ('));
    assert.equal([...shown.matchAll(/^ {2}"([^"]*)"/gm)].map((m) => m[1]).join(''), value);
    const config = JSON.parse(readFileSync(join(root, 'etc/mailfilter/mailfilter.json'), 'utf8'));
    assert.deepEqual(config.dkim, { enabled: true, domain: '', selector: 'mailfilter', algorithm: 'rsa', keyFile: '' });

    const again = await apply(root, rsa);
    assert.match(again, /Preparing the DKIM signing key \.\.\. done \(kept\s+\/etc\/mailfilter\/dkim\/mailfilter\.rsa\.pem\)/);
    assert.equal(readFileSync(keyFile, 'utf8'), key, 'the key whose record is published is never replaced');
    assert.match(review(rsa), /DKIM key: \/etc\/mailfilter\/dkim\/mailfilter\.rsa\.pem \(kept\)\. Publish this TXT record:/);
    assert.ok(review(rsa).includes(`"${value.slice(0, 70)}"`), 'the review shows the record of the key there is');

    const ed = await apply(root, answers({ dkimSelector: 's2026', dkimAlgorithm: 'ed25519' }));
    assert.match(ed, /made\s+\/etc\/mailfilter\/dkim\/s2026\.ed25519\.pem/);
    assert.match(ed, /s2026\._domainkey\.company\.com\. IN TXT \(\n {2}"v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=" \)/);
    assert.equal(readFileSync(keyFile, 'utf8'), key, 'the old selector’s key stays for its published record');

    const off = await apply(root, answers({ dkimSign: false }));
    assert.match(off, /Preparing the DKIM signing key \.\.\. done \(not signing\)/);
    assert.doesNotMatch(off, /Publish this TXT record/);
    assert.match(review(answers({ dkimSign: false })), /DKIM-sign outgoing mail: no/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
