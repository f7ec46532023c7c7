// Ages and sizes on disk: the spam rules sa-update fetched, the quarantine and the spool, the
// viewer's certificate.
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Run } from './services.js';

export const SA_RULES_DIR = '/var/lib/spamassassin';

/** When sa-update last installed rules (its versioned folder, e.g. 4.000000); null when never. */
export function spamRulesUpdated(dir = SA_RULES_DIR): Date | null {
  if (!existsSync(dir)) return null;
  const versions = readdirSync(dir)
    .filter((f) => /^\d+\.\d+$/.test(f))
    .map((f) => join(dir, f));
  const times = versions.flatMap((v) => readdirSync(v).map((f) => statSync(join(v, f)).mtimeMs));
  return times.length ? new Date(Math.max(...times)) : null;
}

/** Bytes used under a folder (du), or null when it cannot be read. */
export function diskUse(path: string, run: Run): number | null {
  if (!existsSync(path)) return 0;
  try {
    return Number(run('du', ['-sk', path]).split(/\s/)[0]) * 1024;
  } catch {
    return null;
  }
}

export function certificateExpiry(certPath: string): Date | null {
  try {
    return new Date(new X509Certificate(readFileSync(certPath)).validTo);
  } catch {
    return null;
  }
}
