// The real wizard in a real tmux pane of 80x24, answered as the 2006 manual's example sessions are.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TmuxPane } from '../support/tmux.js';

const roots: string[] = [];
const panes: TmuxPane[] = [];

after(() => {
  for (const pane of panes) pane.kill();
  if (!process.env.KEEP_TEST_DIRS) for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function startWizard(root: string, name: string): TmuxPane {
  const command = `cd ${process.cwd()} && MAILFILTER_LOG_LEVEL=warn node --import tsx runtime/cli.ts configure --root ${root}; echo WIZARD-EXIT=$?; sleep 600`;
  const pane = TmuxPane.start(name, command);
  panes.push(pane);
  return pane;
}

function newRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'mailfilter-wizard-'));
  roots.push(root);
  return root;
}

test('the manual’s fetchmail session: validation beside the field, the review, the files, and saved answers', { timeout: 120_000 }, async () => {
  const root = newRoot();
  writeFileSync(join(root, 'reconfigure'), '');
  const pane = startWizard(root, 'wizard-fetchmail');
  const first = await pane.waitFor(/Enter the fully qualified hostname/);
  assert.match(first, /^ Mail filter setup - Network configuration\s+step 1 of \d+/m);
  assert.ok(
    first.split('\n').every((line) => line.length <= 80),
    'fits 80 columns',
  );

  await pane.answer('fetcher');
  await pane.waitFor(/Enter a fully qualified name with a domain/);
  await pane.key('C-u');
  await pane.answer('fetcher.company.local');
  const dhcp = await pane.waitFor(/Use DHCP to configure network settings\? \(Yes\/No\) \[no\]/);
  assert.match(dhcp, /step 2 of (\d+)/);
  const total = /step 2 of (\d+)/.exec(dhcp)![1];
  assert.match(dhcp, /If using SMTP-mode, it is best to enter a static IP address/);
  await pane.answer('');
  await pane.reply(/Enter the IP address to use/, '192.168.100.2');
  await pane.reply(/Enter the subnet mask/, '255.0.255.0');
  await pane.waitFor(/That is not a subnet mask/);
  await pane.key('C-u');
  await pane.answer('255.255.255.0');
  await pane.reply(/default gateway/, '10.0.0.1');
  await pane.waitFor(/The gateway must be in the appliance's subnet/);
  await pane.key('C-u');
  await pane.answer('192.168.100.1');
  await pane.reply(/primary DNS server/, '192.168.100.1');
  await pane.reply(/secondary DNS server .*\(blank for none\) \[\]/, '');

  const mode = await pane.waitFor(/Use fetchmail or use as SMTP server \(fetchmail\/smtp\) \[fetchmail\]/);
  assert.match(mode, new RegExp(`step 8 of ${total}`), 'the total stays as questions are skipped');
  assert.match(mode, /'smtp': the appliance receives/, 'the mode question has help');
  await pane.answer('');
  await pane.reply(/Would you like to enter account information .*\[no\]/s, 'yes');
  await pane.reply(/keep messages on the servers after fetching\? .*\[yes\]/s, '');
  await pane.reply(/Enter a server to poll \(blank to quit\)/, 'mail.company.com');
  await pane.reply(/Protocol for this server \(pop3\/imap\) \[pop3\]/, '');
  for (const n of ['one', 'two']) {
    await pane.reply(/Enter a username\/address for this server \(blank to quit\)/, `user_${n}@company.com`);
    await pane.reply(/Enter a password for this account/, `password_${n}`);
    assert.doesNotMatch(pane.screen(), new RegExp(`password_${n}`), 'passwords are masked while typed');
    await pane.reply(/Enter the local address to take delivery/, `user_${n}@company.local`);
  }
  await pane.reply(/Enter a username\/address for this server \(blank to quit\)/, '');
  await pane.reply(/Enter a server to poll \(blank to quit\)/, '');

  await pane.reply(/External mail domain/, 'company.com');
  await pane.reply(/Internal mail domain .*\[company\.com\]/s, 'company.local');
  await pane.reply(/mail server to take final delivery/, 'mail.company.local');
  await pane.reply(/domains this server should service \/ relay \[company\.com, company\.local\]/, '');
  await pane.reply(/from which this server should allow clients.*\[host\]/s, '');
  await pane.reply(/Sign outgoing mail from the allowed networks with DKIM\?.*\[no\]/s, '');
  await pane.reply(/Spam message destiny .*\[D_PASS\]/s, '');
  await pane.reply(/Virus message destiny .*\[D_BOUNCE\]/s, 'D_DELETE');
  await pane.waitFor(/Answer one of: D_PASS, D_BOUNCE, D_DISCARD/);
  await pane.key('C-u');
  await pane.answer('');
  await pane.reply(/Banned attachment message destiny .*\[D_BOUNCE\]/s, '');
  await pane.reply(/Unchecked message destiny .*\[D_PASS\]/s, '');
  await pane.reply(/Spoofed message destiny .*\[D_DISCARD\]/s, '');
  await pane.reply(/Bad header message destiny .*\[D_PASS\]/s, '');
  await pane.reply(/Spam level .*\[6\.31\]/s, '');
  await pane.reply(/Allow banned attachments if they are inside an archive\? .*\[no\]/s, 'yes');
  await pane.reply(/SA maximum mail body size .*\[524288\]/s, '');
  await pane.reply(/Maximum size of the quarantine .*\[500\]/s, '');
  await pane.reply(/Use extra spam checking rules\? .*\[yes\]/s, '');
  await pane.reply(/Certificate file \(PEM\) offered with STARTTLS on port 25 .*\[none\]/s, '');
  await pane.reply(/TLS to the final mail server: 'may' or 'verify' .*\[may\]/s, '');
  await pane.reply(/Enable web interface .*\[yes\]/s, '');
  await pane.reply(/Use Microsoft Exchange recipient integration\? .*\[yes\]/s, '');
  await pane.reply(/hostname of the Exchange-enabled Active Directory server/, 'mail.company.local');
  await pane.reply(/Enter an Active Directory username to use to connect/, 'sync@company.local');
  await pane.reply(/Enter the password for the account/, 'password');
  await pane.reply(/Enter the base DN of the topmost container to scan.*\[DC=company,DC=local\]/s, 'OU=MyBusiness,DC=company,DC=local');
  await pane.reply(/Share storage with other appliances \(PostgreSQL\)\? \(Yes\/No\) \[no\]/, '');

  const review = await pane.waitFor(/Configuration OK\? \(Yes\/No\) \[Yes\]/);
  assert.match(review, /Hostname: fetcher\.company\.local/);
  assert.match(review, /IP Address: 192\.168\.100\.2/);
  assert.match(review, /mail\.company\.com \(pop3\):\s+user_one@company\.com \*{8} user_one@company\.local/);
  for (let i = 0; i < 30; i++) await pane.key('Down');
  const bottom = pane.screen();
  assert.match(bottom, /Active Directory pw: \*{8}/);
  assert.match(bottom, /Active Directory base DN: OU=MyBusiness,DC=company,DC=local/);
  assert.match(bottom, /Shared storage \(PostgreSQL\): no, this appliance alone/);
  assert.doesNotMatch(review + bottom, /password_one|Active Directory pw: password/);
  await pane.answer('');

  const applied = await pane.waitFor(/WIZARD-EXIT=\d+/, 60_000);
  assert.match(applied, /The configuration is applied\./);
  assert.match(applied, /WIZARD-EXIT=0/);
  const config = JSON.parse(readFileSync(join(root, 'etc/mailfilter/mailfilter.json'), 'utf8'));
  assert.equal(config.mail.mode, 'fetchmail');
  assert.equal(config.policy.allowBannedInArchives, true);
  assert.equal(config.viewer.loginMethod, 'ldap');
  assert.equal(config.directory.baseDn, 'OU=MyBusiness,DC=company,DC=local');
  const accounts = JSON.parse(readFileSync(join(root, 'etc/mailfilter/fetch-accounts.json'), 'utf8'));
  assert.deepEqual(
    accounts.servers[0].accounts.map((a: { user: string; deliverTo: string; keep: boolean }) => [a.user, a.deliverTo, a.keep]),
    [
      ['user_one@company.com', 'user_one@company.local', true],
      ['user_two@company.com', 'user_two@company.local', true],
    ],
  );
  assert.match(readFileSync(join(root, 'etc/postfix/main.cf'), 'utf8'), /^mynetworks = 127\.0\.0\.1\/32 192\.168\.100\.2\/32$/m);
  assert.match(readFileSync(join(root, 'etc/postfix/main.cf'), 'utf8'), /^relay_recipient_maps = hash:\/etc\/postfix\/exchange_recipients$/m);
  assert.ok(!existsSync(join(root, 'reconfigure')), '/reconfigure is removed after a successful apply');
  pane.kill();

  // A second run offers the saved answers as defaults.
  const again = startWizard(root, 'wizard-fetchmail-2');
  await again.waitFor(/Enter the fully qualified hostname .*\[fetcher\.company\.local\]/s);
  await again.answer('');
  await again.reply(/Use DHCP.*\[no\]/s, '');
  await again.waitFor(/Enter the IP address to use .*\[192\.168\.100\.2\]/s);
  await again.key('C-c');
  await again.waitFor(/Setup cancelled; nothing was changed\.\s+WIZARD-EXIT=1/);
});

test('an SMTP-mode session without Exchange skips the fetch and directory questions', { timeout: 120_000 }, async () => {
  const root = newRoot();
  const pane = startWizard(root, 'wizard-smtp');
  await pane.reply(/Enter the fully qualified hostname/, 'mx.company.com');
  await pane.reply(/Use DHCP/, 'no');
  await pane.reply(/Enter the IP address to use/, '192.168.100.3');
  await pane.reply(/Enter the subnet mask/, '255.255.255.0');
  await pane.reply(/default gateway/, '192.168.100.1');
  await pane.reply(/primary DNS server/, '192.168.100.1');
  await pane.reply(/secondary DNS server/, '192.168.100.4');
  await pane.reply(/Use fetchmail or use as SMTP server/, 'smtp');
  const next = await pane.waitFor(/External mail domain/);
  assert.match(next, /^ Mail filter setup - E-mail setup/m, 'no fetch questions in SMTP mode');
  await pane.answer('company.com');
  await pane.reply(/Internal mail domain/, '');
  await pane.reply(/mail server to take final delivery/, '192.168.100.20');
  await pane.reply(/relay \[company\.com\]/, '');
  await pane.reply(/allow clients.*\[host\]/s, '');
  await pane.reply(/with DKIM\?.*\[no\]/s, 'yes');
  await pane.reply(/DKIM selector.*\[mailfilter\]/s, '');
  await pane.reply(/DKIM key type \(rsa\/ed25519\).*\[rsa\]/s, 'ed25519');
  // PgDn accepts the defaults of the rest of the section.
  await pane.waitFor(/Spam message destiny/);
  await pane.key('PageDown');
  await pane.reply(/Enable web interface/, '');
  await pane.reply(/Use Microsoft Exchange recipient integration/, 'no');
  await pane.reply(/Ask the final mail server whether each recipient exists/, '');
  await pane.reply(/Share storage with other appliances \(PostgreSQL\)\?/, '');
  const review = await pane.waitFor(/Configuration OK\?/);
  assert.match(review, /Fetchmail or SMTP: smtp/);
  assert.match(review, /^ Mail filter setup - Review\s+↑\/↓ to scroll$/m, 'a review longer than the screen says it scrolls');
  assert.doesNotMatch(review, /Keep messages on the server/);
  for (let i = 0; i < 30; i++) await pane.key('Down');
  assert.match(pane.screen(), /Shared storage \(PostgreSQL\): no, this appliance alone/);
  // A few lines back up: the networks line sits above the bottom's view.
  for (let i = 0; i < 3; i++) await pane.key('Up');
  assert.match(pane.screen(), /Allowed networks: 192\.168\.100\.3\/32 \(host: this appliance only\)/, 'the review shows the real networks');
  assert.match(pane.screen(), /DKIM-sign outgoing mail: yes, selector mailfilter, Ed25519/);
  assert.match(pane.screen(), /DKIM key: apply makes/, 'no key yet: the review says apply makes it');
  await pane.answer('yes');
  const applied = await pane.waitFor(/WIZARD-EXIT=\d+/, 60_000);
  assert.match(applied, /WIZARD-EXIT=0/);
  assert.ok(
    applied.split('\n').every((line) => line.length <= 78),
    'apply fits 78 columns',
  );
  assert.doesNotMatch(applied, /^(info|warn|error) \w+:|Warning/m, 'no log lines or warnings among the steps');
  assert.match(applied, /no virus database yet: mail is held \(4xx\)/);
  assert.match(
    applied,
    /^mailfilter\._domainkey\.company\.com\. IN TXT \(\n {2}"v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=" \)$/m,
    'apply ends with the record to publish',
  );
  // The record at the end scrolls the first steps off the 24 lines.
  assert.match(pane.history(), /\[3\/\d+\] Writing the fetch accounts \.\.\. done \(not needed in SMTP mode\)/);
  assert.ok(!existsSync(join(root, 'etc/mailfilter/fetch-accounts.json')));
  const main = readFileSync(join(root, 'etc/postfix/main.cf'), 'utf8');
  assert.match(main, /^mynetworks = 127\.0\.0\.1\/32 192\.168\.100\.3\/32$/m, 'only the appliance itself relays by default');
  assert.match(main, /^# relay_recipient_maps: set by Exchange\/LDAP integration when enabled$/m);
  assert.match(readFileSync(join(root, 'etc/postfix/transport'), 'utf8'), /^company\.com\s+smtp:\[192\.168\.100\.20\]:25$/m);
  // The appliance asks its own caching resolver, which forwards to the DNS servers answered.
  assert.match(readFileSync(join(root, 'etc/resolv.conf'), 'utf8'), /nameserver 127\.0\.0\.1/);
  assert.match(
    readFileSync(join(root, 'etc/unbound/unbound.conf.d/mailfilter.conf'), 'utf8'),
    /forward-addr: 192\.168\.100\.1[\s\S]*forward-addr: 192\.168\.100\.4/,
  );
});
