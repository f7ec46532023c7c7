// Rendered config files checked by the real programs that will read them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'mailfilter-render-'));
const answers = join(root, 'answers-input.json');
writeFileSync(
  answers,
  JSON.stringify({
    hostname: 'fetcher.company.local',
    address: '192.168.100.2',
    netmask: '255.255.255.0',
    gateway: '192.168.100.1',
    dns1: '192.168.100.1',
    mode: 'fetchmail',
    externalDomain: 'company.com',
    internalDomain: 'company.local',
    finalServer: 'mail.company.local',
    exchange: true,
    ldapServer: 'mail.company.local',
    ldapUser: 'sync@company.local',
    ldapPassword: 'password',
    ldapBaseDn: 'OU=MyBusiness,DC=company,DC=local',
  }),
);
execFileSync('node', ['--import', 'tsx', 'runtime/cli.ts', 'configure', '--answers', answers, '--root', root], {
  stdio: 'pipe',
  env: { ...process.env, MAILFILTER_LOG_LEVEL: 'warn' },
});

test('postfix check accepts the rendered Postfix config', () => {
  const out = execFileSync('postfix', ['-c', join(root, 'etc/postfix'), 'check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(out, '');
  const unknown = execFileSync('postconf', ['-c', join(root, 'etc/postfix'), '-n'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(unknown, /^content_filter = scan:\[127\.0\.0\.1\]:10024$/m);
});

test('clamconf reads the rendered clamd.conf and freshclam.conf without errors', () => {
  const out = execFileSync('clamconf', ['-c', join(root, 'etc/clamav')], { encoding: 'utf8' });
  assert.doesNotMatch(out, /ERROR|Unknown option/);
  assert.match(out, /StreamMaxLength = "\d+"/);
});

test('spamassassin --lint accepts the rendered local.cf', () => {
  const site = join(root, 'sa-lint');
  mkdirSync(site);
  for (const pre of readdirSync('/etc/spamassassin').filter((f) => f.endsWith('.pre'))) copyFileSync(join('/etc/spamassassin', pre), join(site, pre));
  copyFileSync(join(root, 'etc/spamassassin/local.cf'), join(site, 'local.cf'));
  const out = execFileSync('spamassassin', ['--lint', '-L', `--siteconfigpath=${site}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(out, '');
});
