// DKIM signing of our own outgoing mail through the whole chain: mail from mynetworks with our
// From: domain leaves the filter's re-injection signed, and the independent verifier (python3-dkim)
// accepts it with the TXT record we would publish; mail from outside is not signed.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { startChain, type Chain, arrivalOf, stopAfterTests, uniqueSubject } from '../support/chain.js';
import { buildMessage } from '../support/messages.js';
import { pythonDkimVerifies } from '../support/dkim-verify.js';
import { dkimTxtRecord, makeDkimKey } from '../../runtime/checks/auth-dkim-key.js';

const keyDir = mkdtempSync(join(tmpdir(), 'dkim-sign-'));
const privateKey = makeDkimKey('rsa');
let chain: Chain;

before(
  async () => {
    writeFileSync(join(keyDir, 'private.pem'), privateKey, { mode: 0o600 });
    chain = await startChain({ dkim: { enabled: true, selector: 'mailfilter', keyFile: join(keyDir, 'private.pem') } });
  },
  { timeout: 300_000 },
);

stopAfterTests(() => chain?.stop(), keyDir);

const arrives = (subject: string) => arrivalOf(chain, subject);

test('our own mail from mynetworks is signed as it is re-injected, and python3-dkim verifies it', { timeout: 120_000 }, async () => {
  const subject = uniqueSubject('signed outgoing');
  const sent = await chain.send(buildMessage({ subject, from: 'Alice <alice@company.com>' }), { from: 'alice@company.com', to: ['bob@company.com'] });
  assert.deepEqual(sent.accepted, ['bob@company.com'], sent.response);
  const message = await arrives(subject);
  assert.match(message.raw, /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=company\.com;[^]*s=mailfilter;/m);
  assert.equal(pythonDkimVerifies(message.raw, dkimTxtRecord(privateKey)), true, message.raw.slice(0, 2000));
});

test('mail from outside, or with another From: domain, is not signed', { timeout: 120_000 }, async () => {
  const outside = uniqueSubject('inbound not signed');
  await chain.send(
    buildMessage({ subject: outside, from: 'someone@example.net' }),
    { from: 'someone@example.net', to: ['bob@company.com'] },
    { localAddress: '127.0.0.3' },
  );
  const other = uniqueSubject('other domain not signed');
  await chain.send(buildMessage({ subject: other, from: 'someone@example.net' }), { from: 'someone@example.net', to: ['bob@company.com'] });
  for (const subject of [outside, other]) assert.doesNotMatch((await arrives(subject)).raw, /^DKIM-Signature:/m);
});
