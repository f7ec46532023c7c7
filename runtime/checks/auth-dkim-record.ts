// The DNS TXT record the organisation publishes for our DKIM key, in the forms the admin copies it
// from: the wizard's review, the end of apply and `mailfilter status` (an 80-column console), and
// the viewer's console (a browser, where a DNS provider's form wants the name and the value).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../config/schema.js';
import { dkimKeyPath, dkimKeyType, dkimRecordName, dkimSigningDomain, dkimTxtRecord, type DkimKeyType } from './auth-dkim-key.js';

export interface DkimRecord {
  /** <selector>._domainkey.<domain> */
  name: string;
  /** The whole text: what a DNS provider's form takes as the value. */
  value: string;
  type: DkimKeyType;
}

/** The DKIM key as apply left it, or will. */
export type DkimPublication =
  | { state: 'off' }
  | { state: 'missing'; keyFile: string; name: string; type: DkimKeyType }
  | { state: 'unreadable'; keyFile: string; name: string; reason: string }
  | { state: 'ready'; keyFile: string; record: DkimRecord };

/** One TXT record holds strings of at most 255 bytes each; receivers join them (RFC 6376 3.6.2.2). An RSA-2048 record needs two. */
export function txtStrings(value: string, size = 255): string[] {
  const strings: string[] = [];
  for (let at = 0; at < value.length; at += size) strings.push(value.slice(at, at + size));
  return strings;
}

/** The zone-file line, with 255-character strings: `name. IN TXT "..." "..."`. */
export function zoneLine(record: DkimRecord): string {
  return `${record.name}. IN TXT ${txtStrings(record.value)
    .map((s) => `"${s}"`)
    .join(' ')}`;
}

/**
 * The same record for an 80-column console: a zone-file entry in parentheses with shorter strings,
 * one a line, so nothing is wrapped into the value when it is copied. Receivers join strings alike.
 */
export function zoneLinesForConsole(record: DkimRecord, size = 70): string[] {
  const strings = txtStrings(record.value, size).map((s) => `  "${s}"`);
  strings[strings.length - 1] += ' )';
  return [`${record.name}. IN TXT (`, ...strings];
}

export function dkimRecord(selector: string, domain: string, privateKeyPem: string): DkimRecord {
  return { name: dkimRecordName(selector, domain), value: dkimTxtRecord(privateKeyPem), type: dkimKeyType(privateKeyPem) };
}

/** `root` is where the appliance's files are ('/' on the appliance, a scratch folder in tests). */
export function dkimPublication(config: Pick<AppConfig, 'dkim' | 'mail'>, root = '/'): DkimPublication {
  if (!config.dkim.enabled) return { state: 'off' };
  const keyFile = dkimKeyPath(config.dkim);
  const name = dkimRecordName(config.dkim.selector, dkimSigningDomain(config));
  const file = join(root, keyFile);
  if (!existsSync(file)) return { state: 'missing', keyFile, name, type: config.dkim.algorithm };
  try {
    return { state: 'ready', keyFile, record: dkimRecord(config.dkim.selector, dkimSigningDomain(config), readFileSync(file, 'utf8')) };
  } catch (err) {
    return { state: 'unreadable', keyFile, name, reason: (err as Error).message.split('\n')[0]! };
  }
}

const TYPE_NAMES: Record<DkimKeyType, string> = { rsa: 'RSA-2048', ed25519: 'Ed25519' };

/**
 * The publication in console lines (at most 78 columns but the key's path). `whenMissing` says
 * when the key will be made, as seen from where the lines are shown.
 */
export function dkimConsoleLines(publication: DkimPublication, whenMissing: string): string[] {
  switch (publication.state) {
    case 'off':
      return ['DKIM signing: off'];
    case 'missing':
      return [`DKIM signing: ${publication.name}, no key yet: ${whenMissing}`];
    case 'unreadable':
      return [`DKIM signing: ${publication.keyFile} cannot be read (${publication.reason})`];
    case 'ready':
      return [
        `DKIM signing: ${TYPE_NAMES[publication.record.type]} key ${publication.keyFile}.`,
        'Publish this TXT record in your DNS (receivers check signatures with it):',
        ...zoneLinesForConsole(publication.record),
      ];
  }
}

export const dkimTypeName = (type: DkimKeyType) => TYPE_NAMES[type];
