import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { doorEventOf, lineTime } from '../../../runtime/door-stats/log-line.js';

// The whole maillog of one run of test/integration/door.test.ts (Postfix 3.7, postscreen with bl.test).
const doorTestLog = readFileSync(new URL('./door-test.maillog', import.meta.url), 'utf8').split('\n');
const NOW = Date.UTC(2026, 11, 3, 12);

test('the door test’s log yields one blocklisted, one pregreet, one rate limit and two unknown recipients', { timeout: 10_000 }, () => {
  const kinds = doorTestLog.map((line) => doorEventOf(line, NOW)?.kind).filter(Boolean);
  assert.deepEqual(kinds.sort(), ['dnsbl', 'pregreet', 'rate-limit', 'unknown-recipient', 'unknown-recipient']);
});

test('postscreen’s “blocked using” reply is not counted again beside its DNSBL rank line', { timeout: 10_000 }, () => {
  const reply = doorTestLog.find((line) => line.includes('postscreen') && line.includes('blocked using'));
  assert.ok(reply);
  assert.equal(doorEventOf(reply, NOW), undefined);
});

test('smtpd’s own blocklist reject, an unknown relay recipient and anvil’s other limits are counted', { timeout: 10_000 }, () => {
  const at = '2026-12-02T20:34:15.123456+00:00 mx';
  assert.equal(
    doorEventOf(
      `${at} postfix/smtpd[9]: NOQUEUE: reject: RCPT from x.example[192.0.2.9]: 554 5.7.1 Service unavailable; client [192.0.2.9] blocked using zen.spamhaus.org; from=<a@b> to=<c@d> proto=ESMTP helo=<x>`,
      NOW,
    )?.kind,
    'dnsbl',
  );
  assert.equal(
    doorEventOf(
      `${at} postfix/smtpd[9]: NOQUEUE: reject: RCPT from x[192.0.2.9]: 550 5.1.1 <no@company.com>: Recipient address rejected: User unknown in relay recipient table; from=<a@b> to=<no@company.com> proto=ESMTP helo=<x>`,
      NOW,
    )?.kind,
    'unknown-recipient',
  );
  assert.equal(doorEventOf(`${at} postfix/smtpd[9]: warning: Connection rate limit exceeded: 31 from x[192.0.2.9] for service smtp`, NOW)?.kind, 'rate-limit');
  assert.equal(
    doorEventOf(`${at} postfix/smtpd[9]: warning: Connection concurrency limit exceeded: 11 from x[192.0.2.9] for service smtp`, NOW)?.kind,
    'rate-limit',
  );
});

test(
  'lines that are not refusals at the door are not counted: greylisting (counted by the policy service), a pending verification, other programs',
  { timeout: 10_000 },
  () => {
    const at = 'Dec  2 20:34:15 mx';
    assert.equal(
      doorEventOf(
        `${at} postfix/smtpd[9]: NOQUEUE: reject: RCPT from x[192.0.2.9]: 450 4.7.1 <bob@company.com>: Recipient address rejected: Greylisted: first mail from 192.0.2.0/24 for <bob@company.com>, please try again in 300 seconds; from=<a@b> to=<bob@company.com> proto=ESMTP helo=<x>`,
        NOW,
      ),
      undefined,
    );
    assert.equal(
      doorEventOf(
        `${at} postfix/smtpd[9]: NOQUEUE: reject: RCPT from x[192.0.2.9]: 450 4.1.1 <no@company.com>: Recipient address rejected: unverified address: probe pending; from=<a@b> to=<no@company.com> proto=ESMTP helo=<x>`,
        NOW,
      ),
      undefined,
    );
    assert.equal(doorEventOf(`${at} mailfilter[9]: info filter: DNSBL rank 3 for [127.0.0.2]:1`, NOW), undefined);
  },
);

test(
  'a line is counted on its UTC day: RFC 3339 stamps with their offset, traditional ones in local time, December read in January',
  { timeout: 10_000 },
  () => {
    assert.equal(
      doorEventOf('2026-12-02T23:30:00+02:00 mx postfix/postscreen[1]: PREGREET 24 after 0 from [127.0.0.4]:3: EHLO x\\r\\n', NOW)?.day,
      '2026-12-02',
    );
    assert.equal(
      doorEventOf('2026-12-03T00:30:00-02:00 mx postfix/postscreen[1]: PREGREET 24 after 0 from [127.0.0.4]:3: EHLO x\\r\\n', NOW)?.day,
      '2026-12-03',
    );
    assert.equal(lineTime('Dec 31 23:00:00 mx postfix/smtpd[1]: x', Date.UTC(2027, 0, 1, 12)), new Date(2026, 11, 31, 23).getTime());
    assert.equal(lineTime('no stamp here', NOW), undefined);
  },
);
