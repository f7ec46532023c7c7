import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDoorStats } from '../../../runtime/door-stats/collect.js';
import { utcDay } from '../../../runtime/time/utc.js';
import { startTestViewer } from '../viewer/harness.js';

test('the console shows what door-stats counted from the log, day by day, with a legend for each kind', { timeout: 30_000 }, async (t) => {
  const viewer = await startTestViewer();
  t.after(() => rmSync(viewer.dir, { recursive: true, force: true }));
  const today = utcDay(Date.now());
  const stamp = `${today}T09:00:00+00:00 mx`;
  const log = join(viewer.dir, 'mail.log');
  writeFileSync(
    log,
    [
      `${stamp} postfix/postscreen[1]: DNSBL rank 3 for [127.0.0.2]:46171`,
      `${stamp} postfix/postscreen[1]: DNSBL rank 3 for [127.0.0.2]:46172`,
      `${stamp} postfix/postscreen[1]: PREGREET 24 after 0 from [127.0.0.4]:37933: EHLO robot.example.net\\r\\n`,
      `${stamp} postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[127.0.0.3]: 550 5.1.1 <nobody@company.com>: Recipient address rejected: undeliverable address: host 10.0.0.5[10.0.0.5] said: 550 5.1.1 <nobody@company.com>: Recipient address rejected: User unknown (in reply to RCPT TO command); from=<a@b> to=<nobody@company.com> proto=ESMTP helo=<x>`,
      '',
    ].join('\n'),
  );
  await collectDoorStats({ quarantineDir: join(viewer.dir, 'q') }, log);

  await viewer.services.accounts.setPassword((await viewer.services.accounts.findByName('vadmin'))!.id, 'admin-password-1');
  const admin = viewer.browser();
  await admin.login('vadmin', 'admin-password-1');
  const page = await admin.request('/viewer/admin');
  assert.equal(page.status, 200);
  assert.match(page.text, /Refused at the door in the last 14 days/);
  assert.match(page.text, new RegExp(`<title>${today}: 2 blocklisted</title>`));
  assert.match(page.text, new RegExp(`<title>${today}: 1 pregreet</title>`));
  assert.match(page.text, new RegExp(`<title>${today}: 1 unknown recipient</title>`));
  for (const label of ['blocklisted', 'pregreet', 'rate limit', 'unknown recipient', 'greylisted', 'greylist passed'])
    assert.match(page.text, new RegExp(`>${label}</text>`));
  assert.match(page.text, /Mail in the last 14 days/, 'the messages chart stays');
});
