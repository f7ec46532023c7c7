// The record the wizard tells the admin to publish is the one receivers need: apply makes the key,
// the record is served by the tests' real DNS server (unbound) as shown, and a message the filter's
// signer signed with that key verifies with python3-dkim, given the record as DNS answered it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { loadConfig } from '../../runtime/config/load.js';
import { dkimKeyPath } from '../../runtime/checks/auth-dkim-key.js';
import { dkimPublication, txtStrings } from '../../runtime/checks/auth-dkim-record.js';
import { openDkimSigner } from '../../runtime/filter/dkim-sign.js';
import { startDns, type DnsServer } from '../support/dns.js';
import { pythonDkimVerifies } from '../support/dkim-verify.js';
import { APPLY_PATHS, applyInto, dkimSigningAnswers } from '../support/wizard-replies.js';

const MESSAGE =
  'From: Alice <alice@company.com>\r\nTo: bob@example.net\r\nSubject: quarterly figures\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <wizard-key@company.com>\r\n\r\nHello Bob.\r\n';

for (const algorithm of ['rsa', 'ed25519'] as const) {
  test(`a ${algorithm} key made by apply signs mail that verifies against its record as published in DNS`, { timeout: 120_000 }, async () => {
    const root = mkdtempSync(join(tmpdir(), `dkim-published-${algorithm}-`));
    let dns: DnsServer | undefined;
    try {
      const answers = dkimSigningAnswers({ dkimSelector: 'wizard', dkimAlgorithm: algorithm });
      await applyInto(root, answers);
      const config = loadConfig(join(root, APPLY_PATHS.configPath));
      const publication = dkimPublication(config, root);
      assert.equal(publication.state, 'ready');
      if (publication.state !== 'ready') return;
      assert.equal(publication.record.name, 'wizard._domainkey.company.com');

      dns = await startDns(join(root, 'dns'), [{ name: publication.record.name, type: 'TXT', data: publication.record.value }]);
      const served = await dns.resolver().resolveTxt(publication.record.name);
      assert.equal(served.length, 1, 'one TXT record');
      assert.deepEqual(served[0], txtStrings(publication.record.value), 'served in the 255-character strings shown to the admin');

      const signer = openDkimSigner({
        domain: 'company.com',
        selector: config.dkim.selector,
        keyFile: join(root, dkimKeyPath(config.dkim)),
        inside: (a) => a === '127.0.0.1',
      });
      const signed = (await signer.sign(Readable.from([MESSAGE]))) + MESSAGE;
      assert.match(signed, new RegExp(`^DKIM-Signature: .*a=${algorithm}-sha256;.*s=wizard;`, 's'));
      const fromDns = served[0]!.join('');
      assert.equal(pythonDkimVerifies(signed, fromDns), true, signed);
      assert.equal(pythonDkimVerifies(signed.replace('Hello Bob.', 'Hello Eve.'), fromDns), false, 'an altered body does not verify');
    } finally {
      await dns?.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
}
