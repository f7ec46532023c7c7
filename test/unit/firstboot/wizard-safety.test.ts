// The wizard's answers that would make an open relay, a mail loop or a useless filter are refused
// with a reason; the screen's step total and apply's output stay fit for an 80x24 serial console.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wizard } from '../../../firstboot/wizard.js';
import { defaultAnswers } from '../../../firstboot/answers.js';
import { QUESTIONS } from '../../../firstboot/questions.js';
import { extraHelp } from '../../../firstboot/help.js';
import { answerProblems } from '../../../firstboot/configure.js';
import { fitLine } from '../../../runtime/text/wrap.js';
import { defaultConfig } from '../../../runtime/config/load.js';
import { PASSWORD_MIN_LENGTH } from '../../../runtime/accounts/password-rule.js';
import { answerAll, applyInto, directoryReplies, keepDefaults, smtpAnswers } from '../../support/wizard-replies.js';

const network = ['mx.company.com', 'no', '192.168.100.2', '255.255.255.0', '192.168.100.1', '192.168.100.1', ''];

const answer = answerAll;

/** Answers up to the allowed-networks question in SMTP mode. */
function atNetworks(): Wizard {
  const wizard = new Wizard(defaultAnswers());
  answer(wizard, [...network, 'smtp', 'company.com', '', '192.168.100.20', '']);
  assert.match(wizard.screen().prompt, /from which this server should allow clients/);
  return wizard;
}

test('SMTP mode offers "host" as the allowed networks, and the review shows the network it means', () => {
  const wizard = atNetworks();
  assert.equal(wizard.screen().defaultShown, 'host');
  answer(wizard, ['']);
  assert.match(wizard.screen().prompt, /with DKIM\?/, 'no confirmation for a narrow network');
  answer(wizard, ['']);
  assert.match(wizard.screen().prompt, /Spam message destiny/);
  wizard.nextSection();
  answer(wizard, ['', 'no', '', '']);
  assert.ok(wizard.screen().review.includes('  Allowed networks: 192.168.100.2/32 (host: this appliance only)'), wizard.screen().review.join('\n'));
});

test('0.0.0.0/0, or any network wider than a /16, needs "yes, I understand"', () => {
  for (const wide of ['0.0.0.0/0', '10.0.0.0/8', '192.168.0.0/24, 172.16.0.0/12']) {
    const wizard = atNetworks();
    answer(wizard, [wide]);
    assert.match(wizard.screen().prompt, /wider than a \/16\. Type 'yes, I understand'/);
    assert.equal(wizard.screen().defaultShown, '');
    assert.match(wizard.submit('') ?? '', /would make an open relay/);
    assert.match(wizard.submit('yes') ?? '', /would make an open relay/);
    answer(wizard, ['Yes, I understand']);
    assert.match(wizard.screen().prompt, /with DKIM\?/);
    assert.equal(wizard.answers.wideNetworksConfirmed, wide);
  }
  const narrow = atNetworks();
  answer(narrow, ['192.168.0.0/16']);
  assert.match(narrow.screen().prompt, /with DKIM\?/, 'a /16 passes without a word');
  // 'subnet' counts as the subnet it stands for.
  const wizard = new Wizard(defaultAnswers());
  answer(wizard, ['mx.company.com', 'no', '10.1.2.3', '255.0.0.0', '10.0.0.1', '10.0.0.1', '', 'smtp', 'company.com', '', '10.1.2.20', '', 'subnet']);
  assert.match(wizard.screen().prompt, /wider than a \/16/);
});

test('an answers file with a wide network is refused until it says it understood, for those networks', () => {
  const base = smtpAnswers({ relayDomains: ['company.com'], allowedNetworks: ['0.0.0.0/0'], exchange: false });
  assert.match(answerProblems(base, defaultConfig()).join('\n'), /^wideNetworksConfirmed: 0\.0\.0\.0\/0 would make an open relay/m);
  assert.deepEqual(answerProblems({ ...base, wideNetworksConfirmed: '0.0.0.0/0' }, defaultConfig()), []);
  assert.notDeepEqual(answerProblems({ ...base, allowedNetworks: ['10.0.0.0/8'], wideNetworksConfirmed: '0.0.0.0/0' }, defaultConfig()), []);
});

test('the appliance’s address is not 0.0.0.0 or loopback, the final server is not itself, the spam level is sane', () => {
  const wizard = new Wizard(defaultAnswers());
  answer(wizard, ['mx.company.com', 'no']);
  assert.match(wizard.submit('0.0.0.0') ?? '', /means "any address"/);
  assert.match(wizard.submit('127.0.0.1') ?? '', /is loopback/);
  assert.match(wizard.submit('224.0.0.1') ?? '', /multicast/);
  answer(wizard, ['192.168.100.2', '255.255.255.0', '192.168.100.1', '192.168.100.1', '', 'smtp', 'company.com', '']);
  for (const self of ['192.168.100.2', 'mx.company.com', 'MX', 'localhost', '127.0.0.1'])
    assert.match(wizard.submit(self) ?? '', /is this appliance itself: mail would loop/, self);
  answer(wizard, ['192.168.100.20', '', '', '', '', '', '', '', '', '']);
  assert.match(wizard.screen().prompt, /^Spam level/);
  assert.match(wizard.submit('-5') ?? '', /from 1 to 30/);
  assert.match(wizard.submit('0') ?? '', /from 1 to 30/);
  assert.match(wizard.submit('31') ?? '', /from 1 to 30/);
  answer(wizard, ['5']);
});

test('the step total is fixed for a mode, whatever is skipped on the way', () => {
  const totals = (replies: string[]) => {
    const wizard = new Wizard(defaultAnswers());
    const seen: Array<[number, number]> = [];
    for (const reply of replies) {
      const screen = wizard.screen();
      seen.push([screen.step, screen.steps]);
      answer(wizard, [reply]);
    }
    return seen;
  };
  const smtpStatic = totals([
    ...network,
    'smtp',
    'company.com',
    '',
    '192.168.100.20',
    '',
    '0.0.0.0/0',
    'yes, I understand',
    ...keepDefaults(14),
    'verify',
    '',
    '',
    'no',
  ]);
  const smtpDhcp = totals(['mx.company.com', 'yes', 'smtp', 'company.com', '', '192.168.100.20', ...keepDefaults(18), ...directoryReplies('pw')]);
  const smtpTotals = [...smtpStatic, ...smtpDhcp].filter((_, i, all) => i >= 0 && all[i]![0] > 8).map(([, total]) => total);
  assert.equal(new Set(smtpTotals).size, 1, `one total in SMTP mode: ${smtpTotals}`);
  const steps = smtpStatic.map(([step]) => step);
  assert.deepEqual(
    steps,
    [...steps].sort((a, b) => a - b),
    'steps only go forward',
  );
  const fetchmail = totals(['mx.company.com', 'yes', '', 'no', '', 'company.com', '', 'mail.company.local', '', '']);
  assert.equal(new Set(fetchmail.map(([, total]) => total)).size, 1, 'one total in fetchmail mode, before and after the mode question');
  assert.ok(fetchmail[0]![1] > smtpTotals[0]!, 'fetchmail mode has its account questions');
});

test('every question has help, the mode question included', () => {
  for (const q of QUESTIONS) assert.ok((q.help ?? extraHelp(q.id)).length > 20, `${q.id} has help`);
  const wizard = new Wizard(defaultAnswers());
  answer(wizard, ['mx.company.com', 'yes']);
  assert.match(wizard.screen().help, /'smtp': the appliance receives/);
});

test('apply’s output fits 78 columns, with no log lines or warnings among it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'apply-lines-'));
  try {
    const answers = smtpAnswers({
      hostname: 'a-rather-long-host-name.department.company.example',
      relayDomains: ['company.com'],
      allowedNetworks: ['host'],
      exchange: false,
    });
    const lines = await applyInto(root, answers);
    for (const line of lines) assert.ok(line.length <= 78 && !line.includes('\n'), `too long: ${line}`);
    assert.ok(!lines.some((l) => /^(debug|info|warn|error) \w+:|Warning/.test(l)), lines.join('\n'));
    assert.match(lines.join('\n'), /and reboot\./, 'the end of a long line is not lost');
    assert.match(
      lines.join('\n'),
      /no virus database yet: mail is held \(4xx\) until freshclam reaches the update\n {2}servers; it retries every 60 minutes\./,
    );
    // The suite logs warnings only (test/run.sh); the certificate's info line shows where logs go when it is logged at all.
    if (['info', 'debug', undefined].includes(process.env.MAILFILTER_LOG_LEVEL)) {
      assert.match(readFileSync(join(root, 'var/log/mailfilter/configure.log'), 'utf8'), /made a self-signed certificate/, 'log lines go to the apply log');
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('fitLine keeps words whole and indents what continues', () => {
  const parts = fitLine(`      ${'word '.repeat(40)}end`);
  assert.ok(parts.every((p) => p.length <= 78 && p.startsWith('      ')));
  assert.match(parts.at(-1)!, /end$/);
  assert.deepEqual(fitLine('short'), ['short']);
});

test('root’s new password needs as many characters as a viewer password, typed twice alike', () => {
  const hook = readFileSync('overlay/etc/profile.d/zz-mailfilter-firstboot.sh', 'utf8');
  assert.equal(Number(/^MAILFILTER_ROOT_PASSWORD_MIN=(\d+)$/m.exec(hook)![1]), PASSWORD_MIN_LENGTH);
  const root = mkdtempSync(join(tmpdir(), 'root-pw-'));
  try {
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'mailfilter'), '#!/bin/sh\nexit 0\n');
    writeFileSync(join(bin, 'chpasswd'), `#!/bin/sh\ncat > ${root}/chpasswd-input\n`);
    for (const f of ['mailfilter', 'chpasswd']) chmodSync(join(bin, f), 0o755);
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc/mailfilter-initial-root-password'), '');
    const out = execFileSync('sh', ['-c', '. overlay/etc/profile.d/zz-mailfilter-firstboot.sh'], {
      encoding: 'utf8',
      timeout: 10_000,
      input: 'abc\nlong-enough-1\ndifferent-22\nlong-enough-1\nlong-enough-1\n',
      env: { PATH: `${bin}:/usr/bin:/bin`, MAILFILTER_ROOT: root, MAILFILTER_CONSOLE: '1', MAILFILTER_CHPASSWD: join(bin, 'chpasswd') },
    });
    assert.match(out, /Too short: at least 10 characters\. Try again\.[\s\S]*The passwords differ\. Try again\.[\s\S]*root's password is changed\./);
    assert.equal(readFileSync(join(root, 'chpasswd-input'), 'utf8'), 'root:long-enough-1\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
