import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanMessage } from '../../../runtime/filter/scan.js';
import { readHead } from '../../../runtime/mail/message-head.js';
import { defaultConfig } from '../../../runtime/config/load.js';

test('checks turned off are reported as skipped and never contact a scanner', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'scan-'));
  const path = join(dir, 'm.eml');
  writeFileSync(path, 'From: a@b.c\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nSubject: x\r\n\r\nbody\r\n');
  const config = defaultConfig();
  // Scanners that do not exist: a check that tried to reach them would report 'error'.
  const settings = {
    checks: ['banned'] as const,
    clamd: { ...config.clamd, socket: join(dir, 'none.sock') },
    spamd: { ...config.spamd, port: 1 },
    policy: config.policy,
  };
  const results = await scanMessage({ spoolPath: path, size: 60, head: await readHead(path) }, settings);
  assert.deepEqual(
    results.map((r) => [r.check, r.result]),
    [
      ['virus', 'skip'],
      ['spam', 'skip'],
      ['auth', 'skip'],
      ['banned', 'pass'],
    ],
  );
  const none = await scanMessage({ spoolPath: path, size: 60, head: await readHead(path) }, { ...settings, checks: [] });
  assert.deepEqual(
    none.map((r) => r.result),
    ['skip', 'skip', 'skip'],
  );
});
