// The certificate the appliance offers (STARTTLS on port 25, the viewer), in words for the
// wizard's review: its subject and expiry, or that apply will make a self-signed one.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../config/schema.js';
import { smtpCertificatePaths } from './certificate.js';

/** `root` is where the appliance's files are ('/' on the appliance). */
export function describeCertificate(config: AppConfig, root = '/'): string {
  const { cert } = smtpCertificatePaths(config);
  const file = join(root, cert);
  if (!existsSync(file)) return 'none yet: apply makes a self-signed one for the host name, valid 10 years';
  try {
    const said = execFileSync('openssl', ['x509', '-noout', '-subject', '-enddate', '-in', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const subject = /^subject=\s*(.*)$/m.exec(said)?.[1]?.trim() ?? '?';
    const until = /^notAfter=(.*)$/m.exec(said)?.[1]?.trim();
    const expires = until ? new Date(until).toISOString().slice(0, 10) : '?';
    return `${subject}, expires ${expires}`;
  } catch (err) {
    return `${cert} cannot be read (${(err as Error).message.split('\n')[0]})`;
  }
}
