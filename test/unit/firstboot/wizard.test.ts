import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wizard } from '../../../firstboot/wizard.js';
import { defaultAnswers } from '../../../firstboot/answers.js';
import { answerProblems } from '../../../firstboot/configure.js';
import { defaultConfig } from '../../../runtime/config/load.js';
import * as check from '../../../firstboot/validate.js';
import { wrap } from '../../../firstboot/tui.js';
import { answerAll, directoryReplies, keepDefaults } from '../../support/wizard-replies.js';

const network = ['mx.company.com', '', '192.168.100.2', '255.255.255.0', '192.168.100.1', '192.168.100.1', ''];

test('DHCP skips the address questions; smtp mode skips fetch accounts', () => {
  const wizard = new Wizard(defaultAnswers());
  answerAll(wizard, ['mx.company.com', 'yes']);
  assert.match(wizard.screen().prompt, /Use fetchmail or use as SMTP server/);
  answerAll(wizard, ['smtp']);
  assert.match(wizard.screen().prompt, /External mail domain/);
});

test('the accounts loop collects servers and accounts until blank answers', () => {
  const wizard = new Wizard(defaultAnswers());
  answerAll(wizard, [
    ...network,
    'fetchmail',
    'yes',
    '',
    'pop.example.net',
    'imap',
    'a@example.net',
    'pw-a',
    'a@company.local',
    '',
    'pop2.example.net',
    '',
    'b@example.net',
    'pw-b',
    'b@company.local',
    '',
    '',
  ]);
  assert.deepEqual(wizard.answers.fetchServers, [
    { host: 'pop.example.net', protocol: 'imap', accounts: [{ user: 'a@example.net', password: 'pw-a', deliverTo: 'a@company.local' }] },
    { host: 'pop2.example.net', protocol: 'pop3', accounts: [{ user: 'b@example.net', password: 'pw-b', deliverTo: 'b@company.local' }] },
  ]);
  assert.match(wizard.screen().prompt, /External mail domain/);
});

test('back goes to the previous question; a section jump takes defaults only when they are valid', () => {
  const wizard = new Wizard(defaultAnswers());
  assert.match(wizard.nextSection() ?? '', /Answer this question first: Enter a fully qualified name/);
  answerAll(wizard, ['mx.company.com']);
  wizard.back();
  assert.match(wizard.screen().prompt, /fully qualified hostname/);
  assert.equal(wizard.screen().defaultShown, 'mx.company.com');
  answerAll(wizard, ['', 'yes', 'smtp', 'company.com', '', '10.0.0.9', '', 'host', '']);
  assert.equal(wizard.screen().section, 'Spam configuration');
  assert.equal(wizard.nextSection(), null);
  assert.equal(wizard.screen().section, 'Integration configuration');
  wizard.previousSection();
  assert.equal(wizard.screen().section, 'Spam configuration');
});

test('the review masks passwords; "No" starts over with the answers as defaults', () => {
  const wizard = new Wizard(defaultAnswers());
  answerAll(wizard, [...network, 'smtp', 'company.com', 'company.local', 'mail.company.local', ...keepDefaults(18), ...directoryReplies('s3cret'), '']);
  const review = wizard.screen();
  assert.equal(review.kind, 'review');
  assert.ok(review.review.includes('  Active Directory pw: ********'));
  assert.ok(!review.review.join('\n').includes('s3cret'));
  answerAll(wizard, ['no']);
  assert.equal(wizard.screen().defaultShown, 'mx.company.com');
  assert.equal(wizard.screen().step, 1);
});

test('an answers file is checked with the wizard’s own rules', () => {
  const answers = {
    ...defaultAnswers(),
    hostname: 'nodot',
    mode: 'smtp' as const,
    address: '192.168.1.5',
    netmask: '255.255.0.255',
    gateway: '10.0.0.1',
    dns1: '192.168.1.1',
    externalDomain: 'company.com',
    internalDomain: 'company.com',
    finalServer: 'mail',
    relayDomains: ['company.com'],
    allowedNetworks: ['10.0.0.0/33'],
    exchange: false,
  };
  const problems = answerProblems(answers, defaultConfig());
  assert.deepEqual(problems, [
    'hostname: Enter a fully qualified name with a domain, like mailfilter.company.com.',
    'netmask: That is not a subnet mask: its ones must come first (like 255.255.255.0).',
    "gateway: The gateway must be in the appliance's subnet (192.168.1.5 with mask 255.255.0.255).",
    'allowedNetworks: "10.0.0.0/33" is not a network; write it like 192.168.100.0/24.',
  ]);
});

test('input checks', () => {
  assert.equal(check.distinguishedName('OU=MyBusiness,DC=company,DC=local'), null);
  assert.notEqual(check.distinguishedName('company.local'), null);
  assert.equal(check.dnOrUserAtDomain('sync@company.local'), null);
  assert.equal(check.dnOrUserAtDomain('CN=sync,CN=Users,DC=company,DC=local'), null);
  assert.equal(check.networks('192.168.1.0/24, 10.0.0.0/8'), null);
  assert.equal(check.inSubnet('10.1.2.3', '10.1.9.9', '255.255.0.0'), true);
  assert.deepEqual(wrap('aaa bbb ccc', 7), ['aaa bbb', 'ccc']);
});

test('the console login hook starts the wizard until the appliance is configured, and again after touch /reconfigure', () => {
  const root = mkdtempSync(join(tmpdir(), 'hook-'));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'mailfilter'), '#!/bin/sh\necho "WIZARD STARTED $*"\n');
  chmodSync(join(bin, 'mailfilter'), 0o755);
  const login = (consoleTty: boolean) =>
    execFileSync('sh', ['-c', '. overlay/etc/profile.d/zz-mailfilter-firstboot.sh'], {
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin`, MAILFILTER_ROOT: root, ...(consoleTty ? { MAILFILTER_CONSOLE: '1' } : {}) },
    });
  assert.equal(login(true), 'WIZARD STARTED configure\n');
  assert.match(login(false), /not configured yet.*Run 'mailfilter configure'/s);
  mkdirSync(join(root, 'etc/mailfilter'), { recursive: true });
  writeFileSync(join(root, 'etc/mailfilter/mailfilter.json'), '{}');
  assert.equal(login(true), 'WIZARD STARTED status\n', 'configured: the console shows the status');
  assert.equal(login(false), '', 'over SSH a login is just a login');
  writeFileSync(join(root, 'reconfigure'), '');
  assert.equal(login(true), 'WIZARD STARTED configure\n');
});
