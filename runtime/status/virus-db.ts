// Whether clamd has a virus database to load, and how old it is. Without one clamd waits, the
// filter answers 4xx and Postfix keeps the mail: `mailfilter status` and apply say so in words.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const CLAMAV_DB_DIR = '/var/lib/clamav';
// Signature files clamd loads (official .cvd/.cld/.cud and local ones such as .ndb or .hdb).
const DB_FILE = /\.(cvd|cld|cud|ndb|hdb|hsb|mdb|msb|ldb|ndu|ldu|yar|yara|cdb|idb|pdb|gdb|wdb|ftm|ign2)$/;

export interface VirusDatabase {
  files: string[];
  /** Newest file's modification time; null without any. */
  newest: Date | null;
}

export function virusDatabase(dir = CLAMAV_DB_DIR): VirusDatabase {
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => DB_FILE.test(f))
        .sort()
    : [];
  const times = files.map((f) => statSync(join(dir, f)).mtimeMs);
  return { files, newest: times.length ? new Date(Math.max(...times)) : null };
}

/** How often freshclam tries again: 24 hours divided by its `Checks` (24 a day by default). */
export function freshclamRetryMinutes(conf = '/etc/clamav/freshclam.conf'): number {
  const checks = existsSync(conf) ? Number(/^Checks\s+(\d+)/m.exec(readFileSync(conf, 'utf8'))?.[1] ?? 24) : 24;
  return Math.round((24 * 60) / Math.max(1, checks));
}

/** The words for an appliance without a database, and how to load one by hand. */
export function noDatabaseLines(retryMinutes: number): string[] {
  return [
    'no virus database yet: mail is held (4xx) until freshclam reaches the update',
    `  servers; it retries every ${retryMinutes} minutes.`,
    '  Offline: copy main.cvd, daily.cvd and bytecode.cvd from a machine that ran',
    `  freshclam into ${CLAMAV_DB_DIR}/ (sigtool --info FILE checks a copy), then:`,
    '  chown clamav: /var/lib/clamav/*.cvd && systemctl restart clamav-daemon',
  ];
}
