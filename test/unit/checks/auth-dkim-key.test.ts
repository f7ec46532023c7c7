// Keys for signing our own mail, RSA-2048 and Ed25519, and the TXT record to publish: a message
// signed by the filter's signer verifies with the independent verifier (python3-dkim), given that
// record as the DNS answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { dkimKeyType, dkimRecordName, dkimTxtRecord, makeDkimKey } from '../../../runtime/checks/auth-dkim-key.js';
import { openDkimSigner } from '../../../runtime/filter/dkim-sign.js';
import { pythonDkimVerifies as pythonVerifies } from '../../support/dkim-verify.js';

const MESSAGE =
  'From: Alice <alice@company.com>\r\nTo: bob@example.net\r\nSubject: signed\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <s@company.com>\r\n\r\nHello Bob.\r\n';

for (const type of ['rsa', 'ed25519'] as const) {
  test(`a ${type} key: the TXT record, and a signature python3-dkim verifies; a changed body does not`, { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dkim-key-'));
    try {
      const pem = makeDkimKey(type);
      assert.equal(dkimKeyType(pem), type);
      const record = dkimTxtRecord(pem);
      assert.match(record, new RegExp(`^v=DKIM1; k=${type}; p=[A-Za-z0-9+/=]+$`));
      if (type === 'ed25519') assert.equal(Buffer.from(record.split('p=')[1]!, 'base64').length, 32);
      writeFileSync(join(dir, 'key.pem'), pem);
      const signer = openDkimSigner({ domain: 'company.com', selector: 'mailfilter', keyFile: join(dir, 'key.pem'), inside: (a) => a === '127.0.0.1' });
      assert.equal(signer.applies('company.com', '127.0.0.1'), true);
      assert.equal(signer.applies('sales.company.com', '127.0.0.1'), true);
      assert.equal(signer.applies('company.com', '192.0.2.7'), false, 'only mail from the allowed networks');
      assert.equal(signer.applies('example.net', '127.0.0.1'), false, 'only our own domain');
      const signed = (await signer.sign(Readable.from([MESSAGE]))) + MESSAGE;
      assert.match(signed, new RegExp(`^DKIM-Signature: .*a=${type === 'rsa' ? 'rsa' : 'ed25519'}-sha256`, 's'));
      assert.equal(pythonVerifies(signed, record), true, signed);
      assert.equal(pythonVerifies(signed.replace('Hello Bob.', 'Hello Eve.'), record), false);
      assert.equal(dkimRecordName('mailfilter', 'company.com'), 'mailfilter._domainkey.company.com');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
