// The front door's rendered files, read by the real programs: Postfix's in SMTP mode with every door
// control on (postfix check), the outbound TLS policy map (postmap), and the local resolver's
// configuration in both of its forms (unbound-checkconf).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../runtime/config/load.js';
import { renderAll } from '../../runtime/render/render.js';

const run = (command: string, args: string[]) => execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function smtpConfig(dir: string, more: Record<string, Record<string, unknown>> = {}) {
  return parseConfig(
    {
      network: {
        hostname: 'mx.company.com',
        address: '192.168.100.2',
        netmask: '255.255.255.0',
        gateway: '192.168.100.1',
        dns1: '192.168.100.1',
        dns2: '192.168.100.3',
      },
      mail: { mode: 'smtp', externalDomain: 'company.com', internalDomain: 'company.local', finalServer: 'mail.company.local', allowedNetworks: 'host' },
      postfix: { configDir: join(dir, 'postfix') },
      ...more,
    },
    'door render test',
  );
}

function render(dir: string, config: ReturnType<typeof smtpConfig>, template: string): string {
  const file = renderAll(config).find((f) => f.template === template)!;
  const path = join(dir, template.replace(/\//g, '-').replace(/\.in$/, ''));
  writeFileSync(path, file.content);
  return path;
}

test('postfix check accepts the SMTP-mode config with postscreen, TLS, limits and recipient verification', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailfilter-door-render-'));
  try {
    const config = smtpConfig(dir, {
      postfix: { configDir: join(dir, 'postfix'), outboundTls: 'verify', outboundCaFile: '/etc/ssl/certs/ca-certificates.crt' },
    });
    const files = renderAll(config).filter((f) => f.template.startsWith('postfix/'));
    execFileSync('mkdir', ['-p', join(dir, 'postfix')]);
    for (const file of files) writeFileSync(file.target, file.content);
    run('postmap', ['-c', join(dir, 'postfix'), join(dir, 'postfix', 'transport')]);
    assert.equal(run('postfix', ['-c', join(dir, 'postfix'), 'check']), '');
    const settings = run('postconf', [
      '-c',
      join(dir, 'postfix'),
      '-h',
      'smtpd_tls_security_level',
      'smtpd_recipient_restrictions',
      'smtp_tls_policy_maps',
    ]).split('\n');
    assert.equal(settings[0], 'may');
    assert.match(settings[1]!, /reject_unauth_destination, reject_unknown_sender_domain, reject_unverified_recipient$/);
    assert.equal(run('postmap', ['-c', join(dir, 'postfix'), '-q', '[mail.company.local]:25', settings[2]!]).trim(), 'verify');
    assert.match(run('postconf', ['-c', join(dir, 'postfix'), '-M', 'smtp/inet']), /postscreen$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unbound-checkconf accepts the local resolver with the network’s DNS servers as forwarders, and resolving itself', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailfilter-door-render-'));
  try {
    const forwarding = render(dir, smtpConfig(dir), 'unbound/mailfilter.conf.in');
    assert.match(run('unbound-checkconf', [forwarding]), /no errors/);
    assert.match(readFileSync(forwarding, 'utf8'), /forward-addr: 192\.168\.100\.1\n {4}forward-addr: 192\.168\.100\.3/);
    const direct = render(dir, smtpConfig(dir, { resolver: { forwardToNetworkDns: false } }), 'unbound/mailfilter.conf.in');
    assert.match(run('unbound-checkconf', [direct]), /no errors/);
    assert.doesNotMatch(readFileSync(direct, 'utf8'), /forward-zone/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
