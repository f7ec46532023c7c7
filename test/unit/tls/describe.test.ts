// The wizard's review names the certificate port 25 and the viewer offer: subject and expiry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../runtime/config/load.js';
import { describeCertificate } from '../../../runtime/tls/describe.js';
import { makeSelfSigned } from '../../../runtime/tls/certificate.js';

test('the review says a certificate will be made, then names the one there is', { timeout: 60_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'cert-review-'));
  try {
    const config = parseConfig({ network: { hostname: 'mx.company.com' } });
    assert.match(describeCertificate(config, root), /^none yet: apply makes a self-signed one/);
    const dir = join(root, config.viewer.dataDir, 'tls');
    mkdirSync(dir, { recursive: true });
    makeSelfSigned({ cert: join(dir, 'viewer.crt'), key: join(dir, 'viewer.key') }, 'mx.company.com', 30);
    const expires = new Date(Date.now() + 30 * 86400_000).toISOString().slice(0, 10);
    assert.match(describeCertificate(config, root), new RegExp(`^CN ?= ?mx\\.company\\.com, expires (${expires}|\\d{4}-\\d\\d-\\d\\d)$`));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
