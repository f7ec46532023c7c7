import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatStatus, setAsideCount, viewerUrls, type StatusFacts } from '../../../runtime/status/report.js';
import { parseQueue } from '../../../runtime/status/queue.js';
import { serviceStates } from '../../../runtime/status/services.js';
import { freshclamRetryMinutes, virusDatabase } from '../../../runtime/status/virus-db.js';
import { defaultConfig, parseConfig } from '../../../runtime/config/load.js';
import { startSilentHost } from '../../support/silent-host.js';
import { makeDkimKey } from '../../../runtime/checks/auth-dkim-key.js';
import { dkimRecord } from '../../../runtime/checks/auth-dkim-record.js';

// Two messages as Postfix 3.7's `postqueue -j` prints them.
const QUEUE = [
  JSON.stringify({
    queue_name: 'deferred',
    queue_id: 'A1',
    arrival_time: 1700000000,
    message_size: 500,
    sender: 'a@example.net',
    recipients: [
      {
        address: 'bob@company.com',
        delay_reason: 'host 127.0.0.1[127.0.0.1] said: 451 4.3.0 virus check failed: clamd unreachable (in reply to end of DATA command)',
      },
    ],
  }),
  JSON.stringify({ queue_name: 'active', queue_id: 'B2', arrival_time: 1700000100, sender: 'c@example.net', recipients: [{ address: 'carol@company.com' }] }),
].join('\n');

function facts(more: Partial<StatusFacts> = {}): StatusFacts {
  return {
    now: new Date('2026-01-02T10:00:00Z'),
    hostname: 'mx.company.com',
    services: [
      { unit: 'postfix', state: 'active' },
      { unit: 'clamav-daemon', state: 'activating' },
    ],
    queue: parseQueue(QUEUE),
    virusDb: { files: [], newest: null },
    freshclamRetryMinutes: 60,
    spamRules: null,
    quarantineBytes: 2 * 1048576,
    spoolBytes: 0,
    rootFree: { free: 30 * 1073741824, total: 38 * 1073741824 },
    certificateExpires: new Date('2036-01-01T00:00:00Z'),
    setAside: null,
    dkim: { state: 'off' },
    viewerUrls: ['https://mx.company.com/viewer', 'https://10.0.2.15/viewer'],
    ...more,
  };
}

test('the queue: counts per queue and the latest deferrals with Postfix’s reason', () => {
  const queue = parseQueue(QUEUE);
  assert.deepEqual(queue.counts, { active: 1, incoming: 0, deferred: 1, hold: 0 });
  assert.equal(queue.deferrals.length, 1);
  assert.match(queue.deferrals[0]!.reason, /clamd unreachable/);
  assert.deepEqual(parseQueue('').counts, { active: 0, incoming: 0, deferred: 0, hold: 0 });
});

test('without a virus database the status says mail is held and how to load one offline', () => {
  const text = formatStatus(facts()).join('\n');
  assert.match(text, /no virus database yet: mail is held \(4xx\) until freshclam reaches the update\n {2}servers; it retries every 60 minutes\./);
  assert.match(text, /copy main\.cvd, daily\.cvd and bytecode\.cvd/);
  assert.match(text, /clamav-daemon\s+waiting \(no db\)/);
  assert.match(text, /Queue: 1 active, 0 incoming, 1 deferred, 0 hold/);
  assert.match(text, /Last 1 deferrals:\n {2}11-14 22:13 bob@company\.com: host 127\.0\.0\.1/);
  assert.match(text, /Disk: quarantine 2\.0 MB, spool 0\.0 MB; root 30\.0 GB free of 38\.0 GB/);
  assert.match(text, /Certificate: expires 2036-01-01 \(in 3650 days\)/);
  assert.match(text, /Viewer: https:\/\/mx\.company\.com\/viewer {2}https:\/\/10\.0\.2\.15\/viewer/);
  assert.doesNotMatch(text, /set aside/, 'no fetch line in SMTP mode');
  for (const line of formatStatus(facts())) assert.ok(line.length <= 78, line);
});

test('with a database, rules and set-aside messages the status shows their ages and count', () => {
  const text = formatStatus(
    facts({
      virusDb: { files: ['daily.cvd', 'main.cvd'], newest: new Date('2026-01-02T07:00:00Z') },
      spamRules: new Date('2025-12-30T10:00:00Z'),
      setAside: { count: 2, cluster: false },
    }),
  ).join('\n');
  assert.match(text, /Virus database: 2 files, newest 180 min ago|Virus database: 2 files, newest 3 h ago/);
  assert.match(text, /Spam rules: updated by sa-update 3 days ago/);
  assert.match(text, /Fetching: 2 message\(s\) set aside after failing several polls$/m);
  assert.match(
    formatStatus(facts({ setAside: { count: 3, cluster: true } })).join('\n'),
    /Fetching: 3 message\(s\) set aside after failing several polls \(all nodes\)/,
  );
  assert.match(
    formatStatus(facts({ setAside: { error: 'connect ECONNREFUSED 10.0.0.5:5432' } })).join('\n'),
    /Fetching: set-aside messages unknown \(connect ECONNREFUSED 10\.0\.0\.5:5432\)/,
  );
});

test('with DKIM signing on, the status shows the TXT record to publish, or that the key is not made yet', () => {
  const record = dkimRecord('mailfilter', 'company.com', makeDkimKey('rsa'));
  const lines = formatStatus(facts({ dkim: { state: 'ready', keyFile: '/etc/mailfilter/dkim/mailfilter.rsa.pem', record } }));
  const text = lines.join('\n');
  assert.match(text, /DKIM signing: RSA-2048 key \/etc\/mailfilter\/dkim\/mailfilter\.rsa\.pem\.\nPublish this TXT record in your DNS/);
  assert.match(text, /^mailfilter\._domainkey\.company\.com\. IN TXT \($/m);
  assert.equal([...text.slice(text.indexOf('IN TXT (')).matchAll(/^ {2}"([^"]*)"/gm)].map((m) => m[1]).join(''), record.value);
  for (const line of lines) assert.ok(line.length <= 78, line);
  const missing = formatStatus(facts({ dkim: { state: 'missing', keyFile: '/k.pem', name: 'mailfilter._domainkey.company.com', type: 'rsa' } })).join('\n');
  assert.match(missing, /DKIM signing: mailfilter\._domainkey\.company\.com, no key yet: `mailfilter\s+configure` makes it/);
  assert.match(formatStatus(facts()).join('\n'), /DKIM signing: off/);
});

test('service states come from one systemctl is-active call, unknown when it says nothing', () => {
  const calls: string[][] = [];
  const states = serviceStates(['postfix', 'clamav-daemon', 'spamd'], (cmd, args) => {
    calls.push([cmd, ...args]);
    return 'active\nactivating\n';
  });
  assert.deepEqual(calls, [['systemctl', 'is-active', 'postfix', 'clamav-daemon', 'spamd']]);
  assert.deepEqual(
    states.map((s) => s.state),
    ['active', 'activating', 'unknown'],
  );
});

test('the viewer URL by name and by each address; none when the viewer is off', () => {
  const config = defaultConfig();
  config.network.hostname = 'mx.company.com';
  assert.deepEqual(viewerUrls(config, ['10.0.2.15']), ['https://mx.company.com/viewer', 'https://10.0.2.15/viewer']);
  config.viewer.enabled = false;
  assert.deepEqual(viewerUrls(config, ['10.0.2.15']), []);
});

test('the virus database folder and freshclam’s retry interval are read from disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clamdb-'));
  try {
    assert.deepEqual(virusDatabase(dir).files, []);
    writeFileSync(join(dir, 'daily.cvd'), 'x');
    writeFileSync(join(dir, 'freshclam.dat'), 'x');
    assert.deepEqual(virusDatabase(dir).files, ['daily.cvd']);
    writeFileSync(join(dir, 'freshclam.conf'), 'Checks 12\n');
    assert.equal(freshclamRetryMinutes(join(dir, 'freshclam.conf')), 120);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('in fetch mode with a shared database host that never answers, status gives up on the set-aside count after its short connect timeout and says unknown', async (t) => {
  const silent = await startSilentHost();
  t.after(() => silent.stop());
  const config = parseConfig({
    mail: { mode: 'fetchmail' },
    storage: { backend: 'postgresql', url: `postgresql://mf:pw@127.0.0.1:${silent.port}/mailfilter` },
  });
  const setAside = await setAsideCount(config);
  assert.ok(silent.accepted() >= 1, 'it did try the host');
  const text = formatStatus(facts({ setAside })).join('\n');
  // pg's words, wrapped to the console's width: "Connection terminated due to connection timeout".
  assert.match(text, /^Fetching: set-aside messages unknown \([^)]*\stimeout\)$/m);
});
